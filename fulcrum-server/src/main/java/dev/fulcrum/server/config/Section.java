package dev.fulcrum.server.config;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;

/**
 * One map of the config file ({@code pools[0]}, {@code pools[0].health-check}) with typed getters
 * that fall back to the default when a key is absent. Opening a section reports its unknown and
 * duplicate keys; a getter that meets a wrong value reports it at the value's position (through
 * the value parser's message) and returns the fallback, so binding goes on and finds every mistake.
 * Confined to one thread.
 */
final class Section {

    private final MappingNode map;
    private final String path;
    private final ConfigSource source;
    private final Map<String, Node> values = new LinkedHashMap<>();

    private Section(MappingNode map, String path, ConfigSource source) {
        this.map = map;
        this.path = path;
        this.source = source;
    }

    /**
     * Opens {@code node} as a map whose keys must be among {@code keys} (any key when null: a map
     * of header names), or returns null after reporting that it is not a map.
     */
    static Section open(Node node, String path, ConfigSource source, List<String> keys) {
        if (!(node instanceof MappingNode map)) {
            source.error(node, path, "expected a map, got " + ConfigSource.describe(node));
            return null;
        }
        Section section = new Section(map, path, source);
        Map<String, Node> keyNodes = new LinkedHashMap<>();
        for (NodeTuple tuple : map.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
                source.error(tuple.getKeyNode(), path,
                        "a key must be a plain word, got " + ConfigSource.describe(tuple.getKeyNode()));
                continue;
            }
            String key = keyNode.getValue();
            if (keys != null && !keys.contains(key)) {
                source.error(keyNode, section.key(key), "unknown key; expected one of " + String.join(", ", keys));
            } else if (keyNodes.containsKey(key)) {
                source.error(keyNode, section.key(key), "duplicate key; first at line "
                        + (keyNodes.get(key).getStartMark().getLine() + 1));
            } else {
                keyNodes.put(key, keyNode);
                source.keyed(tuple.getValueNode(), keyNode);
                if (!ConfigSource.isNull(tuple.getValueNode())) {
                    section.values.put(key, tuple.getValueNode());
                } else if (keys == null) {
                    // with free keys an empty value cannot mean "left out": the key itself is the content
                    source.error(tuple.getValueNode(), section.key(key), "expected a value, got an empty value");
                }
            }
        }
        return section;
    }

    /** The full path of {@code key} in this section, for messages: {@code pools[0].name}. */
    String key(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    /** The value node of {@code key}, or this section's map when absent: where to point an error. */
    Node at(String key) {
        return values.getOrDefault(key, map);
    }

    void error(String key, String message) {
        source.error(at(key), key(key), message);
    }

    /** Reports {@code key} as misplaced when it is present ({@code url} on a {@code log} alert). */
    void notAllowed(String key, String why) {
        if (has(key)) {
            error(key, "not allowed " + why);
        }
    }

    <T> T get(String key, T fallback, Function<String, T> parse) {
        Node node = values.get(key);
        if (node == null) {
            return fallback;
        }
        T value = parse(node, key(key), parse);
        return value == null ? fallback : value;
    }

    /** The value of a key that must be present, or null after reporting it missing or wrong. */
    <T> T require(String key, Function<String, T> parse) {
        Node node = values.get(key);
        if (node == null) {
            error(key, "required key is missing");
            return null;
        }
        return parse(node, key(key), parse);
    }

    /** Parses a scalar node, or reports why it cannot and returns null. */
    <T> T parse(Node node, String fullKey, Function<String, T> parse) {
        String text = source.text(node, fullKey);
        if (text == null) {
            return null;
        }
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException e) {
            source.error(node, fullKey, e.getMessage());
            return null;
        }
    }

    String string(String key, String fallback) {
        return get(key, fallback, Function.identity());
    }

    int integer(String key, int fallback, int min, int max) {
        return get(key, fallback, text -> ConfigValues.integer(text, min, max));
    }

    /** The nested map at {@code key}, or null when absent or not a map (reported). */
    Section section(String key, List<String> keys) {
        Node node = values.get(key);
        return node == null ? null : open(node, key(key), source, keys);
    }

    /**
     * The nested map at {@code key} whose keys are names chosen by the operator (header names),
     * or null when absent or not a map (reported); read it with {@link #keys()}.
     */
    Section freeSection(String key) {
        return section(key, null);
    }

    /** The keys that have a value, in file order. */
    List<String> keys() {
        return List.copyOf(values.keySet());
    }

    /** The items of the list at {@code key}; empty when absent or not a list (reported). */
    List<Node> list(String key) {
        Node node = values.get(key);
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof SequenceNode sequence)) {
            error(key, "expected a list, got " + ConfigSource.describe(node));
            return List.of();
        }
        return sequence.getValue();
    }

    /** True when {@code key} holds {@code []}. */
    boolean isEmptyList(String key) {
        return values.get(key) instanceof SequenceNode sequence && sequence.getValue().isEmpty();
    }

    /** A list of single values, each parsed; {@code fallback} when absent; wrong items are reported and left out. */
    <T> List<T> values(String key, List<T> fallback, Function<String, T> parse) {
        if (!has(key)) {
            return fallback;
        }
        List<T> out = new ArrayList<>();
        List<Node> items = list(key);
        for (int i = 0; i < items.size(); i++) {
            T value = parse(items.get(i), key(key) + "[" + i + "]", parse);
            if (value != null) {
                out.add(value);
            }
        }
        return out;
    }

    /**
     * Opens each item of the list at {@code key} as a map with {@code keys} ({@link #item}) and hands
     * it with its index to {@code bind}, in list order; an item that is not a map is reported and skipped.
     */
    void eachItem(String key, List<String> keys, ObjIntConsumer<Section> bind) {
        List<Node> items = list(key);
        for (int i = 0; i < items.size(); i++) {
            Section item = item(key, items, i, keys);
            if (item != null) {
                bind.accept(item, i);
            }
        }
    }

    /** Opens the {@code i}th item of a list as a map; the path of the item is {@code key[i]}. */
    Section item(String key, List<Node> items, int i, List<String> keys) {
        return open(items.get(i), key(key) + "[" + i + "]", source, keys);
    }
}
