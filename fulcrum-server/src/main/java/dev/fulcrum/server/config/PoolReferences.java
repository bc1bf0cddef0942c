package dev.fulcrum.server.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code pool:} references of listeners, autoscale entries and dsr, kept with their positions
 * until every pool is bound, then checked against the pool names. Confined to one thread.
 */
final class PoolReferences {

    private record Reference(String pool, Section section, String key) {
    }

    private final List<Reference> references = new ArrayList<>();
    /** References whose user speaks plain text to the pool's servers, with why (for the error). */
    private final List<Map.Entry<Reference, String>> plainText = new ArrayList<>();

    /** Remembers {@code section.key} naming {@code pool}; null (already reported) is ignored. */
    void add(String pool, Section section, String key) {
        if (pool != null) {
            references.add(new Reference(pool, section, key));
        }
    }

    /**
     * Remembers {@code section.key} naming {@code pool} for a user that speaks plain text to the
     * pool's servers ({@code why}, the rest of the error): such a pool may not have {@code tls}.
     */
    void addPlainText(String pool, Section section, String key, String why) {
        if (pool != null) {
            plainText.add(Map.entry(new Reference(pool, section, key), why));
        }
    }

    /**
     * Reports each plain-text user of a pool with {@code tls}: it would send in plain text what the
     * operator meant to encrypt, or fail against servers that speak only TLS.
     */
    void checkPlainText(List<FulcrumConfig.PoolConfig> pools) {
        for (Map.Entry<Reference, String> use : plainText) {
            Reference ref = use.getKey();
            for (FulcrumConfig.PoolConfig pool : pools) {
                if (pool.name().equals(ref.pool()) && pool.tls() != null) {
                    ref.section().error(ref.key(), "pool " + ConfigValues.quote(pool.name()) + " has tls, but "
                            + use.getValue());
                }
            }
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
