package dev.fulcrum.server.autoscale;

import java.util.OptionalDouble;

/**
 * Reads one gauge from a Prometheus text exposition (format 0.0.4). The Prometheus Java client we
 * use for our own metrics writes this format but has no parser for it, so this is a small strict
 * one: comments ({@code # HELP}, {@code # TYPE}, others) and blank lines are skipped, every sample
 * line must be {@code name[{labels}] value [timestamp]}, and a malformed line anywhere is an
 * error (a half-broken page is not a reading to scale on). Labels are accepted and ignored; when
 * the gauge has several series, the first one is read.
 *
 * <p>Stateless and thread-safe.
 */
public final class PrometheusText {

    private PrometheusText() {
    }

    /**
     * The value of the first series named {@code name}; empty when there is none or its value is
     * {@code NaN} (unknown, not zero).
     *
     * @throws IllegalArgumentException with the line number when the text is not the format
     */
    public static OptionalDouble gauge(String text, String name) {
        OptionalDouble found = OptionalDouble.empty();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                Line parsed = parse(line);
                if (found.isEmpty() && parsed.name().equals(name) && !Double.isNaN(parsed.value())) {
                    found = OptionalDouble.of(parsed.value());
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return found;
    }

    private record Line(String name, double value) {
    }

    private static Line parse(String line) {
        int i = 0;
        int n = line.length();
        while (i < n && isNameChar(line.charAt(i), i == 0)) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException("expected a metric name");
        }
        String name = line.substring(0, i);
        if (i < n && line.charAt(i) == '{') {
            i = skipLabels(line, i + 1);
        }
        String[] rest = line.substring(i).strip().split("[ \t]+");
        if (rest.length < 1 || rest[0].isEmpty() || rest.length > 2) {
            throw new IllegalArgumentException("expected a value (and an optional timestamp) after " + name);
        }
        double value = value(rest[0]);
        if (rest.length == 2) {
            try {
                Long.parseLong(rest[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad timestamp " + rest[1]);
            }
        }
        return new Line(name, value);
    }

    /** Skips {@code label="value",...}} from just after the brace; returns the index after '}'. */
    private static int skipLabels(String line, int i) {
        int n = line.length();
        while (true) {
            while (i < n && line.charAt(i) == ' ') {
                i++;
            }
            if (i < n && line.charAt(i) == '}') {
                return i + 1;
            }
            int start = i;
            while (i < n && isNameChar(line.charAt(i), i == start) && line.charAt(i) != ':') {
                i++;
            }
            if (i == start || i >= n || line.charAt(i) != '=') {
                throw new IllegalArgumentException("expected label=\"value\" at column " + (i + 1));
            }
            i++;
            if (i >= n || line.charAt(i) != '"') {
                throw new IllegalArgumentException("expected a quoted label value at column " + (i + 1));
            }
            i++;
            while (i < n && line.charAt(i) != '"') {
                i += line.charAt(i) == '\\' ? 2 : 1; // escapes: \\ \" \n
            }
            if (i >= n) {
                throw new IllegalArgumentException("unterminated label value");
            }
            i++;
            while (i < n && line.charAt(i) == ' ') {
                i++;
            }
            if (i < n && line.charAt(i) == ',') {
                i++;
            } else if (i >= n || line.charAt(i) != '}') {
                throw new IllegalArgumentException("expected , or } at column " + (i + 1));
            }
        }
    }

    private static double value(String text) {
        return switch (text) {
            case "NaN" -> Double.NaN;
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> {
                // Double.parseDouble alone would accept "0x1p3", "1d" and "Infinity"
                if (!text.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
                    throw new IllegalArgumentException("bad value " + text);
                }
                yield Double.parseDouble(text);
            }
        };
    }

    private static boolean isNameChar(char c, boolean first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'
                || (!first && c >= '0' && c <= '9');
    }
}
