package dev.fulcrum.core.text;

/**
 * Text that came from outside (a request line, a header, an API body, a config value, a
 * program's output) made safe to echo in a log line, an error message or a JSON answer: it can
 * no longer end the line it is printed in (CR, LF, the Unicode line separators), move a
 * terminal's cursor (ESC and the other control characters), or hide part of itself (the bidi
 * controls). Such characters are written as Java escapes ({@code \r}, {@code \n}, {@code \t},
 * {@code \u001b}), and echoes are cut at {@link #MAX_ECHO} characters so a huge input makes a
 * short message.
 *
 * <p>Stateless and thread-safe.
 */
public final class Escape {

    /** The most characters of an input an echo keeps; the rest is counted, not printed. */
    public static final int MAX_ECHO = 200;

    private Escape() {
    }

    /**
     * {@code text} between double quotes, escaped and cut at {@link #MAX_ECHO} characters, for
     * messages such as {@code invalid host "a\r\nb"}; {@code "null"} unquoted for null.
     */
    public static String quote(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_ECHO) + 8).append('"');
        int end = Math.min(text.length(), MAX_ECHO);
        append(out, text, 0, end, true);
        out.append('"');
        if (end < text.length()) {
            out.append(" (").append(text.length() - end).append(" more characters)");
        }
        return out.toString();
    }

    /** {@code text} with every unsafe character escaped, whole, without quotes: for a log line. */
    public static String text(String text) {
        if (text == null) {
            return "null";
        }
        if (isSafe(text)) {
            return text; // the common case allocates nothing
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        append(out, text, 0, text.length(), false);
        return out.toString();
    }

    /** Whether {@code text} has no character that {@link #text} would escape. */
    public static boolean isSafe(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (unsafe(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static void append(StringBuilder out, String text, int from, int to, boolean quoted) {
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\r' -> out.append("\\r");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append(quoted ? "\\\\" : "\\");
                case '"' -> out.append(quoted ? "\\\"" : "\"");
                default -> {
                    if (unsafe(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }

    /**
     * C0 controls and DEL, C1 controls (U+0085 is a line end), U+2028/U+2029 (line and paragraph
     * separators) and the bidi controls (U+200E/F, U+202A-E, U+2066-9) that reorder what a reader
     * sees.
     */
    private static boolean unsafe(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029
                || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    }
}
