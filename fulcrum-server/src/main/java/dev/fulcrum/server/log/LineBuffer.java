package dev.fulcrum.server.log;

import java.util.Arrays;

/**
 * Access-log lines as ASCII bytes, appended one after another until the writer writes them out:
 * every value is escaped into printable ASCII here (the formats say how), so a header cannot
 * forge a line or a field, and no charset encoder is needed. Grows as needed. Confined to the
 * writer thread.
 */
final class LineBuffer {

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private byte[] bytes;
    private int size;

    LineBuffer(int capacity) {
        bytes = new byte[capacity];
    }

    int size() {
        return size;
    }

    /** The bytes; {@code [0, size())} are the lines appended since the last {@link #clear()}. */
    byte[] array() {
        return bytes;
    }

    void clear() {
        size = 0;
    }

    /** Text known to be printable ASCII (names, addresses, constants): copied as it is. */
    LineBuffer ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            bytes[size++] = (byte) s.charAt(i);
        }
        return this;
    }

    LineBuffer ascii(char c) {
        ensure(1);
        bytes[size++] = (byte) c;
        return this;
    }

    /** {@code n} in decimal. */
    LineBuffer number(long n) {
        if (n < 0) {
            ascii('-');
            n = -n;
        }
        ensure(20);
        int start = size;
        do {
            bytes[size++] = (byte) ('0' + n % 10);
            n /= 10;
        } while (n > 0);
        reverse(start, size - 1);
        return this;
    }

    /** {@code n} in decimal, or {@code none} when it is 0: a value that is not there (a TCP line's status). */
    LineBuffer numberOr(long n, String none) {
        return n == 0 ? ascii(none) : number(n);
    }

    /** {@code n} zero-padded to {@code digits} digits. */
    LineBuffer padded(long n, int digits) {
        ensure(digits);
        for (int i = digits - 1; i >= 0; i--) {
            bytes[size + i] = (byte) ('0' + n % 10);
            n /= 10;
        }
        size += digits;
        return this;
    }

    /** {@code units / 1000}, with exactly three decimals: micros as milliseconds, millis as seconds. */
    LineBuffer thousandths(long units) {
        long n = Math.max(0, units);
        number(n / 1000).ascii('.').padded(n % 1000, 3);
        return this;
    }

    /**
     * A JSON string, quoted, or {@code null}: {@code "} and {@code \} escaped, control characters
     * and everything beyond ASCII as {@code \}{@code uXXXX} (header bytes, read as ISO-8859-1
     * characters, so each keeps its value).
     */
    LineBuffer jsonString(String s) {
        if (s == null) {
            return ascii("null");
        }
        ensure(s.length() + 2);
        bytes[size++] = '"';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                ensure(2 + s.length() - i);
                bytes[size++] = '\\';
                bytes[size++] = (byte) c;
            } else if (c < 0x20 || c >= 0x7f) {
                ensure(6 + s.length() - i);
                bytes[size++] = '\\';
                bytes[size++] = 'u';
                hex(c >> 8);
                hex(c);
            } else {
                bytes[size++] = (byte) c;
            }
        }
        ensure(1);
        bytes[size++] = '"';
        return this;
    }

    /**
     * A field of the combined format, as nginx escapes it: {@code -} for none; {@code "},
     * {@code \}, spaces when {@code escapeSpace} (an unquoted field), control characters and
     * everything beyond ASCII as {@code \xHH}.
     */
    LineBuffer combined(String s, boolean escapeSpace) {
        if (s == null) {
            return ascii('-');
        }
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f || c == ' ' && escapeSpace) {
                ensure(4 + s.length() - i);
                bytes[size++] = '\\';
                bytes[size++] = 'x';
                hex(c > 0xff ? '?' : c);
            } else {
                bytes[size++] = (byte) c;
            }
        }
        return this;
    }

    /** Two hex digits of the low byte of {@code b}; room already ensured. */
    private void hex(int b) {
        bytes[size++] = HEX[(b >> 4) & 0xf];
        bytes[size++] = HEX[b & 0xf];
    }

    private void reverse(int i, int j) {
        for (; i < j; i++, j--) {
            byte t = bytes[i];
            bytes[i] = bytes[j];
            bytes[j] = t;
        }
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }
}
