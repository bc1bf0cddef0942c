package dev.fulcrum.server.config;

import org.yaml.snakeyaml.nodes.Node;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers where each value was first written, to report a repeat ({@code duplicate pool name
 * "app"; first at line 20}). Confined to one thread.
 */
final class FirstSeen<T> {

    private final String what;
    private final Map<T, Node> first = new LinkedHashMap<>();

    /** @param what the noun for messages: "pool name", "server address" */
    FirstSeen(String what) {
        this.what = what;
    }

    /** Records {@code value} found at {@code section.key}; reports it when seen before. Null is ignored. */
    void add(T value, Section section, String key) {
        if (value == null) {
            return;
        }
        Node earlier = first.putIfAbsent(value, section.at(key));
        if (earlier != null) {
            section.error(key, "duplicate " + what + " " + ConfigValues.quote(value.toString())
                    + "; first at line " + (earlier.getStartMark().getLine() + 1));
        }
    }

    boolean contains(T value) {
        return first.containsKey(value);
    }

    /** The values in the order first seen. */
    Iterable<T> values() {
        return first.keySet();
    }
}
