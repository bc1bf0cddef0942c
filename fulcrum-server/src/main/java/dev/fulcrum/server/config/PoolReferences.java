package dev.fulcrum.server.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code pool:} references of listeners, autoscale entries and dsr, kept with their positions
 * until every pool is bound, then checked against the pool names. Confined to one thread.
 */
final class PoolReferences {

    private record Reference(String pool, Section section, String key) {
    }

    private final List<Reference> references = new ArrayList<>();

    /** Remembers {@code section.key} naming {@code pool}; null (already reported) is ignored. */
    void add(String pool, Section section, String key) {
        if (pool != null) {
            references.add(new Reference(pool, section, key));
        }
    }

    /** Reports each reference to a pool not in {@code names}. */
    void check(FirstSeen<String> names) {
        List<String> defined = new ArrayList<>();
        names.values().forEach(defined::add);
        for (Reference ref : references) {
            if (!names.contains(ref.pool())) {
                ref.section().error(ref.key(), "no pool named " + ConfigValues.quote(ref.pool()) + "; "
                        + (defined.isEmpty() ? "no pools are defined" : "defined pools: " + String.join(", ", defined)));
            }
        }
    }
}
