package dev.fulcrum.core.route;

import java.util.regex.Pattern;

/**
 * The path condition of a route's {@code match}: {@code path} (exact), {@code path-prefix} or
 * {@code path-regex}, tested against the {@linkplain RequestPath#normalise normalised} path,
 * case-sensitively. Immutable and thread-safe.
 */
public sealed interface PathMatch {

    /** True when the normalised request path meets this condition. */
    boolean matches(String path);

    /** {@code path}: the whole normalised path is this one. */
    record Exact(String path) implements PathMatch {
        public Exact {
            requireNormal(path);
        }

        @Override
        public boolean matches(String requestPath) {
            return path.equals(requestPath);
        }
    }

    /** {@code path-prefix}: the path starts with this one on a segment boundary ({@link RequestPath#hasPrefix}). */
    record Prefix(String prefix) implements PathMatch {
        public Prefix {
            requireNormal(prefix);
        }

        @Override
        public boolean matches(String requestPath) {
            return RequestPath.hasPrefix(requestPath, prefix);
        }
    }

    /**
     * {@code path-regex}: the pattern is found in the path (unanchored, as nginx and HAProxy
     * search; write {@code ^...$} for the whole path). Equal when the pattern text and flags are,
     * so that an unchanged config compares equal on reload.
     */
    record Regex(Pattern pattern) implements PathMatch {
        @Override
        public boolean matches(String requestPath) {
            return RegexBudget.find(pattern, requestPath); // bounded: the path is the client's
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Regex r && r.pattern.pattern().equals(pattern.pattern())
                    && r.pattern.flags() == pattern.flags();
        }

        @Override
        public int hashCode() {
            return pattern.pattern().hashCode();
        }

        @Override
        public String toString() {
            return "Regex[" + pattern.pattern() + "]";
        }
    }

    /**
     * Why {@code path} cannot be a configured path or prefix, or null when it can: it must be in
     * the normal form requests are compared in, or it could never match.
     */
    static String problem(String path) {
        String normal = RequestPath.normalise(path);
        if (normal == null || normal.equals("*")) {
            return "expected a path starting with / (without .. above the root, % followed by two hex digits)";
        }
        if (!normal.equals(path)) {
            return "requests are matched on their normalised path, which is never " + path + "; write " + normal;
        }
        return null;
    }

    private static void requireNormal(String path) {
        String problem = problem(path);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }
}
