package dev.fulcrum.server.http.codec;

/**
 * The syntax of a {@code Host} value and of the authority of an absolute-form request target:
 * {@code uri-host [ ":" port ]} of RFC 3986 3.2.2 (as RFC 9110 7.2 and 4.2.1 use it, without
 * userinfo): a reg-name of unreserved characters, percent-encodings and sub-delims, an IPv4 address
 * (a reg-name of digits and dots), or an IP literal in brackets; the port is at most 5 digits.
 * Spaces, quotes, angle brackets, slashes, {@code @} and controls are refused: a value passed on
 * with them reaches a server's Host and {@code X-Forwarded-Host} (cache keys, generated links,
 * logs). Stateless.
 */
final class HostSyntax {

    private static final boolean[] REG_NAME = new boolean[128];

    static {
        for (int c = '0'; c <= '9'; c++) {
            REG_NAME[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            REG_NAME[c] = true;
            REG_NAME[c - 'a' + 'A'] = true;
        }
        for (char c : "-._~!$&'()*+,;=".toCharArray()) { // unreserved and sub-delims
            REG_NAME[c] = true;
        }
    }

    private HostSyntax() {
    }

    /** True when {@code value} is {@code uri-host [ ":" port ]} with a non-empty host. */
    static boolean isValid(CharSequence value) {
        int end = value.length();
        int hostEnd;
        if (end > 0 && value.charAt(0) == '[') {
            int close = indexOf(value, ']');
            if (close < 2 || !ipLiteral(value, 1, close)) {
                return false;
            }
            hostEnd = close + 1;
        } else {
            int colon = end - 1;
            while (colon >= 0 && value.charAt(colon) != ':') {
                colon--;
            }
            hostEnd = colon < 0 ? end : colon;
            if (hostEnd == 0 || !regName(value, 0, hostEnd)) {
                return false;
            }
        }
        if (hostEnd == end) {
            return true;
        }
        return value.charAt(hostEnd) == ':' && port(value, hostEnd + 1, end);
    }

    private static boolean regName(CharSequence s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= to || !hex(s.charAt(i + 1)) || !hex(s.charAt(i + 2))) {
                    return false;
                }
                i += 2;
            } else if (c >= 128 || !REG_NAME[c]) {
                return false;
            }
        }
        return true;
    }

    /** IPv6address or IPvFuture, loosely: hex digits, colons and dots (the address itself is the server's business). */
    private static boolean ipLiteral(CharSequence s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!hex(c) && c != ':' && c != '.') {
                return false;
            }
        }
        return true;
    }

    private static boolean port(CharSequence s, int from, int to) {
        if (to - from > 5) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(CharSequence s, char c) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

    private static boolean hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
