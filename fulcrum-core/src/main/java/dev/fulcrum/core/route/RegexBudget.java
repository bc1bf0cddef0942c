package dev.fulcrum.core.route;

import java.util.regex.Pattern;

/**
 * A regex search with a bound on its work. A route's {@code path-regex} is the operator's, but the
 * path it runs on is the client's: a pattern with nested repetition ({@code ^(a+)+$}) backtracks
 * exponentially on a path built for it, and Java's engine has no limit of its own — one request
 * could hold an event loop for minutes. The search reads the path through a view that counts
 * character reads and gives up after {@link #MAX_READS}: a search that needs more is taken as no
 * match. An honest pattern on a path of a few hundred bytes reads each character a handful of
 * times, far below the bound.
 */
final class RegexBudget {

    /** Character reads one search may make: ~1 ms of backtracking, 16 reads per byte of a 64 KiB path. */
    static final int MAX_READS = 1 << 20;

    private RegexBudget() {
    }

    /** {@code pattern.matcher(text).find()}, or false once it read {@link #MAX_READS} characters. */
    static boolean find(Pattern pattern, String text) {
        try {
            return pattern.matcher(new Counted(text)).find();
        } catch (Exhausted e) {
            return false;
        }
    }

    /** Thrown out of the engine when the budget is spent; no stack trace (it is expected). */
    private static final class Exhausted extends RuntimeException {
        Exhausted() {
            super(null, null, false, false);
        }
    }

    /** The text, counting reads; the engine reads only through {@code charAt} and {@code length}. */
    private static final class Counted implements CharSequence {
        private final String text;
        private int reads;

        Counted(String text) {
            this.text = text;
        }

        @Override
        public char charAt(int index) {
            if (++reads > MAX_READS) {
                throw new Exhausted();
            }
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return text.subSequence(start, end);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
