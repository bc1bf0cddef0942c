package dev.fulcrum.server.alert;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One alert, in Alertmanager's terms: a name ({@code FulcrumServerDown}), labels that identify it
 * ({@code alertname}, {@code severity}, {@code instance}, {@code pool}, {@code server}; empty ones
 * left out), annotations for people ({@code summary}, {@code description}), when it started and —
 * once resolved — when it ended. Firing and resolution of the same condition share their labels.
 *
 * <p>Immutable; label and annotation maps keep their insertion order (the JSON follows it).
 *
 * @param resolved whether this reports the end of the condition
 * @param endsAt   when resolved: the moment it ended; when firing: null, or for one-off alerts
 *                 (scale-out, scale-in) the future moment Alertmanager should consider it over
 */
public record Alert(String name, boolean resolved, Map<String, String> labels, Map<String, String> annotations,
                    Instant startsAt, Instant endsAt) {

    public Alert {
        labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        annotations = Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
    }

    /** The same alert, resolved at {@code at}, with {@code description} saying why. */
    public Alert resolve(Instant at, String description) {
        Map<String, String> notes = new LinkedHashMap<>(annotations);
        if (description != null && !description.isEmpty()) {
            notes.put("description", description);
        }
        return new Alert(name, true, labels, notes, startsAt, at);
    }

    public String label(String key) {
        return labels.getOrDefault(key, "");
    }

    public String summary() {
        return annotations.getOrDefault("summary", "");
    }

    public String description() {
        return annotations.getOrDefault("description", "");
    }
}
