package dev.fulcrum.core.route;

import java.util.HexFormat;

/**
 * The path that routes match on: a normalised copy of a request target's path, so that one
 * resource has one spelling and {@code /v1/%2e%2e/admin} cannot slip past a rule written for
 * {@code /admin}. The target itself is forwarded as the client sent it; only matching (and
 * {@link #stripPrefix}) see the normalised form.
 *
 * <p>Normalising, in this order:
 * <ol>
 *   <li>the query ({@code ?} and after) is dropped;</li>
 *   <li>percent-encoded unreserved characters (RFC 3986 2.3: letters, digits, {@code - . _ ~}) are
 *       decoded ({@code %41} is {@code A}, {@code %2e} is {@code .}); every other encoding stays
 *       encoded with upper-case hex ({@code %2f} becomes {@code %2F}), so an encoded slash is part
 *       of its segment, never a separator;</li>
 *   <li>empty segments are dropped ({@code //v1} is {@code /v1}, as nginx's {@code merge_slashes});</li>
 *   <li>dot segments are resolved (RFC 3986 5.2.4: {@code /v1/../admin} is {@code /admin}); a
 *       path ending in a dot segment or a slash keeps its trailing slash.</li>
 * </ol>
 * Case is kept: paths compare case-sensitively. A target that is not a path (does not start with
 * {@code /}), has a {@code %} not followed by two hex digits, or whose {@code ..} segments climb
 * above the root is invalid: the caller answers 400. The asterisk-form {@code *} of
 * {@code OPTIONS *} is its own normal form. Stateless.
 */
public final class RequestPath {

    /** RFC 3986 2.3 unreserved, the characters whose percent-encoding is decoded. */
    private static final boolean[] UNRESERVED = new boolean[128];
    /** The JDK's hex digits are ASCII only (Character.digit would also take other scripts' digits). */
    private static final HexFormat HEX = HexFormat.of().withUpperCase();

    static {
        for (char c = '0'; c <= '9'; c++) {
            UNRESERVED[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            UNRESERVED[c] = true;
            UNRESERVED[c - 'a' + 'A'] = true;
        }
        for (char c : "-._~".toCharArray()) {
            UNRESERVED[c] = true;
        }
    }

    private RequestPath() {
    }

    /**
     * The normalised path of {@code target} (an origin-form request target, or {@code *}), or null
     * when it is invalid. A path already normal is returned as it is: one scan, and no copy when
     * the target is a {@code String} without a query.
     */
    public static String normalise(CharSequence target) {
        int end = queryStart(target);
        if (target.length() == 1 && target.charAt(0) == '*') {
            return "*";
        }
        if (end == 0 || target.charAt(0) != '/') {
            return null;
        }
        if (isPlain(target, end)) {
            return target.subSequence(0, end).toString();
        }
        char[] decoded = new char[end];
        int length = decode(target, end, decoded);
        return length < 0 ? null : resolveSegments(decoded, length);
    }

    /**
     * True when {@code path} starts with {@code prefix} on a segment boundary: a prefix that ends in
     * {@code /} is a plain string prefix ({@code /v1/} covers {@code /v1/} and below, not
     * {@code /v1}); one that does not covers itself and what lies below it ({@code /api} covers
     * {@code /api} and {@code /api/users}, not {@code /apix}).
     */
    public static boolean hasPrefix(String path, String prefix) {
        if (!path.startsWith(prefix)) {
            return false;
        }
        return prefix.endsWith("/") || path.length() == prefix.length() || path.charAt(prefix.length()) == '/';
    }

    /**
     * The target to forward when a route strips its {@code path-prefix}: the normalised path
     * without the prefix, starting with exactly one {@code /}, then the original query as sent.
     * {@code /api/users?id=7} with prefix {@code /api} gives {@code /users?id=7}; {@code /api/} and
     * {@code /api} give {@code /}.
     *
     * <p>Built from the normalised path, not the raw bytes: a raw path that differs from its normal
     * form ({@code /%61pi/users}, {@code //api/users}, {@code /x/../api/users}) has no prefix to cut
     * byte for byte, and forwarding it unstripped would show the server a path the route did not
     * mean. For the usual request, already normal, this is the original path minus the prefix.
     *
     * @throws IllegalArgumentException when the target's normalised path does not have the prefix
     *                                  ({@link #hasPrefix}): the route did not match it
     */
    public static String stripPrefix(CharSequence target, String prefix) {
        String path = normalise(target);
        if (path == null || !hasPrefix(path, prefix)) {
            throw new IllegalArgumentException("the target's path does not start with the prefix " + prefix);
        }
        int rest = prefix.length();
        while (rest < path.length() && path.charAt(rest) == '/') {
            rest++;
        }
        int query = queryStart(target);
        return new StringBuilder(1 + path.length() - rest + target.length() - query)
                .append('/').append(path, rest, path.length()).append(target, query, target.length()).toString();
    }

    /** Where the query starts ({@code ?}), or the length when there is none. */
    private static int queryStart(CharSequence target) {
        int n = target.length();
        for (int i = 0; i < n; i++) {
            if (target.charAt(i) == '?') {
                return i;
            }
        }
        return n;
    }

    /** True when nothing in {@code [0, end)} can change: no {@code %}, no {@code //}, no {@code /.}. */
    private static boolean isPlain(CharSequence target, int end) {
        for (int i = 0; i < end; i++) {
            char c = target.charAt(i);
            if (c == '%') {
                return false;
            }
            if (c == '/' && i + 1 < end && (target.charAt(i + 1) == '/' || target.charAt(i + 1) == '.')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Decodes the unreserved encodings of {@code [0, end)} into {@code out} and upper-cases the hex
     * of the others; the length written, or -1 for a {@code %} without two hex digits.
     */
    private static int decode(CharSequence target, int end, char[] out) {
        int n = 0;
        for (int i = 0; i < end; i++) {
            char c = target.charAt(i);
            if (c != '%') {
                out[n++] = c;
                continue;
            }
            if (i + 2 >= end || !HexFormat.isHexDigit(target.charAt(i + 1))
                    || !HexFormat.isHexDigit(target.charAt(i + 2))) {
                return -1;
            }
            int b = HexFormat.fromHexDigit(target.charAt(i + 1)) << 4 | HexFormat.fromHexDigit(target.charAt(i + 2));
            if (b < 128 && UNRESERVED[b]) {
                out[n++] = (char) b;
            } else {
                out[n++] = '%';
                out[n++] = HEX.toHighHexDigit(b);
                out[n++] = HEX.toLowHexDigit(b);
            }
            i += 2;
        }
        return n;
    }

    /** Drops empty and {@code .} segments and resolves {@code ..}; null when one climbs above the root. */
    private static String resolveSegments(char[] path, int length) {
        StringBuilder out = new StringBuilder(length);
        boolean trailingSlash = false;
        int start = 1; // path[0] is '/'
        while (start <= length) {
            int end = start;
            while (end < length && path[end] != '/') {
                end++;
            }
            int size = end - start;
            if (size == 0 || size == 1 && path[start] == '.') {
                trailingSlash = true;
            } else if (size == 2 && path[start] == '.' && path[start + 1] == '.') {
                if (out.isEmpty()) {
                    return null;
                }
                out.setLength(out.lastIndexOf("/"));
                trailingSlash = true;
            } else {
                out.append('/').append(path, start, size);
                trailingSlash = false;
            }
            start = end + 1;
        }
        if (out.isEmpty() || trailingSlash) {
            out.append('/');
        }
        return out.toString();
    }
}
