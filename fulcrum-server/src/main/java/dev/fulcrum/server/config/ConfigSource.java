package dev.fulcrum.server.config;

import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The file being bound: its name, the environment for {@code ${NAME}}, and the errors found so far.
 * Binding does not stop at the first mistake: each one is recorded here with the position of its
 * YAML node, and binding goes on with a fallback value. Confined to one thread, used for one load.
 */
final class ConfigSource {

    private final String file;
    private final Map<String, String> env;
    private final List<ConfigError> errors = new ArrayList<>();
    /** Value node -> its key node: a wrong value is reported where its key starts, as the spec's examples show. */
    private final Map<Node, Node> keyOf = new java.util.IdentityHashMap<>();

    ConfigSource(String file, Map<String, String> env) {
        this.file = file;
        this.env = env;
    }

    /** Remembers that {@code value} is the value of {@code key}, so errors about it point at the key. */
    void keyed(Node value, Node key) {
        keyOf.put(value, key);
    }

    void error(Node at, String key, String message) {
        Mark mark = keyOf.getOrDefault(at, at).getStartMark();
        errors.add(new ConfigError(file, mark.getLine() + 1, mark.getColumn() + 1, key, message));
    }

    void error(Mark mark, String message) {
        errors.add(new ConfigError(file, mark.getLine() + 1, mark.getColumn() + 1, "", message));
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    /** The errors in file order; errors at one place keep the order they were found in. */
    List<ConfigError> errors() {
        return errors.stream()
                .sorted(Comparator.comparingInt(ConfigError::line).thenComparingInt(ConfigError::column))
                .toList();
    }

    /**
     * The text of a scalar value with {@code ${...}} replaced, or null (after recording an error)
     * when {@code node} is a map or a list, or names an unset variable.
     */
    String text(Node node, String key) {
        if (!(node instanceof ScalarNode scalar)) {
            error(node, key, "expected a single value, got " + describe(node));
            return null;
        }
        try {
            return EnvSubstitution.substitute(scalar.getValue(), env);
        } catch (IllegalArgumentException e) {
            error(node, key, e.getMessage());
            return null;
        }
    }

    /** True for {@code key:} with nothing after it, {@code ~} and {@code null}: treated as absent. */
    static boolean isNull(Node node) {
        return node instanceof ScalarNode && Tag.NULL.equals(node.getTag());
    }

    static String describe(Node node) {
        return switch (node) {
            case MappingNode _ -> "a map";
            case SequenceNode _ -> "a list";
            case ScalarNode s when isNull(s) -> "an empty value";
            case ScalarNode s -> ConfigValues.quote(s.getValue());
            default -> "a " + node.getNodeId();
        };
    }
}
