package dev.fulcrum.server.config;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.core.text.Redact;
import dev.fulcrum.server.io.BoundedFile;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the value syntaxes of the config file (durations, percentages, status and port
 * ranges, IPv4 addresses, names). Each takes the scalar's text, after environment substitution, and
 * either returns the value or throws {@link IllegalArgumentException} whose message is one line
 * saying what was found and what is expected. Stateless.
 */
final class ConfigValues {

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");
    private static final Pattern WHOLE = Pattern.compile("-?\\d{1,18}");
    private static final Pattern DECIMAL = Pattern.compile("-?(\\d{1,18}(\\.\\d*)?|\\.\\d+)");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(\\.\\d+)?)%");
    private static final Pattern RANGE = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?");
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    /** Listener and pool names end up in URL paths, metric labels and log lines. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    /** An RFC 9110 token: cookie names (RFC 6265) and header field names. */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    private ConfigValues() {
    }

    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid duration " + quote(text)
                    + "; expected a whole number and a unit: 250ms, 2s, 1m, 1h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    /** A duration that must be more than zero (a timeout, an interval). */
    static Duration positiveDuration(String text) {
        Duration d = duration(text);
        if (d.isZero()) {
            throw new IllegalArgumentException("must be more than 0, got " + text);
        }
        return d;
    }

    static int integer(String text, int min, int max) {
        if (!WHOLE.matcher(text).matches()) {
            throw new IllegalArgumentException("expected a whole number, got " + quote(text));
        }
        long n = Long.parseLong(text);
        if (n < min || n > max) {
            throw new IllegalArgumentException(text + " is out of range; expected "
                    + (max == Integer.MAX_VALUE ? "at least " + min : min + ".." + max));
        }
        return (int) n;
    }

    static double number(String text, double min, double max) {
        if (!DECIMAL.matcher(text).matches()) {
            throw new IllegalArgumentException("expected a number, got " + quote(text));
        }
        double n = Double.parseDouble(text);
        if (n < min || n > max) {
            throw new IllegalArgumentException(text + " is out of range; expected "
                    + (max == Double.MAX_VALUE ? "at least " + plain(min) : plain(min) + ".." + plain(max)));
        }
        return n;
    }

    /** A number that must be more than zero (a divisor). */
    static double positiveNumber(String text) {
        double n = number(text, 0, Double.MAX_VALUE);
        if (n == 0) {
            throw new IllegalArgumentException("must be more than 0, got " + text);
        }
        return n;
    }

    static boolean bool(String text) {
        return switch (text) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("expected true or false, got " + quote(text));
        };
    }

    /** {@code 10%} as the fraction 0.1; 0%..100%. */
    static double percent(String text) {
        Matcher m = PERCENT.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a percentage like 10%, got " + quote(text));
        }
        double p = Double.parseDouble(m.group(1));
        if (p > 100) {
            throw new IllegalArgumentException(text + " is out of range; expected 0%..100%");
        }
        return p / 100;
    }

    /** {@code 200} or {@code 200-399}, as {low, high}; codes 100..599. */
    static int[] statusRange(String text) {
        int[] range = range(text, "expected a status code like 200 or a range like 200-399, got ");
        if (range[0] < 100 || range[1] > 599 || range[0] > range[1]) {
            throw new IllegalArgumentException(quote(text) + " is not a status range; expected codes 100..599, low first");
        }
        return range;
    }

    /** {@code 9200-9299} (or one port), as {low, high}; ports 1..65535. */
    static int[] portRange(String text) {
        int[] range = range(text, "expected a port range like 9200-9299, got ");
        if (range[0] < 1 || range[1] > 65535 || range[0] > range[1]) {
            throw new IllegalArgumentException(quote(text) + " is not a port range; expected ports 1..65535, low first");
        }
        return range;
    }

    private static int[] range(String text, String expected) {
        Matcher m = RANGE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException(expected + quote(text));
        }
        int low = Integer.parseInt(m.group(1));
        int high = m.group(2) == null ? low : Integer.parseInt(m.group(2));
        return new int[] {low, high};
    }

    static int port(String text) {
        return integer(text, 1, 65535);
    }

    /** A dotted-quad IPv4 address, returned as written. */
    static String ipv4(String text) {
        Matcher m = IPV4.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("expected an IPv4 address like 10.0.0.100, got " + quote(text));
        }
        for (int i = 1; i <= 4; i++) {
            if (Integer.parseInt(m.group(i)) > 255) {
                throw new IllegalArgumentException(quote(text) + " is not an IPv4 address; each part is 0..255");
            }
        }
        return text;
    }

    /** An IPv4 address with a prefix length 1..32, {@code 10.0.0.100/24}, returned as written. */
    static String ipv4WithPrefix(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("expected an IPv4 address with a prefix length like 10.0.0.100/24, got "
                    + quote(text));
        }
        ipv4(text.substring(0, slash));
        String prefix = text.substring(slash + 1);
        if (!WHOLE.matcher(prefix).matches() || Long.parseLong(prefix) < 1 || Long.parseLong(prefix) > 32) {
            throw new IllegalArgumentException("prefix length \"" + prefix + "\" in " + quote(text)
                    + " is out of range; expected 1..32");
        }
        return text;
    }

    /** A listener or pool name. */
    static String name(String text) {
        if (!NAME.matcher(text).matches()) {
            throw new IllegalArgumentException("invalid name " + quote(text)
                    + "; expected letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)");
        }
        return text;
    }

    /** A cookie name, or "" for none. */
    static String cookieName(String text) {
        return text.isEmpty() ? text : token(text, "cookie name");
    }

    /** A header field name, as written. */
    static String fieldName(String text) {
        return token(text, "header name");
    }

    /** An RFC 9110 token (cookie and header names), {@code what} naming it in the message. */
    private static String token(String text, String what) {
        if (!TOKEN.matcher(text).matches()) {
            throw new IllegalArgumentException("invalid " + what + " " + quote(text)
                    + "; expected letters, digits and !#$%&'*+-.^_`|~ only");
        }
        return text;
    }

    /**
     * A header field value: visible ASCII, spaces and tabs. No CR, LF or NUL, which would end the
     * field or the head early on the wire; no other control or non-ASCII character, which servers
     * read differently.
     */
    static String fieldValue(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < ' ' && c != '\t') || c >= 0x7f) {
                throw new IllegalArgumentException("a header value may have visible ASCII characters, spaces and tabs"
                        + " only; character " + (i + 1) + " of " + quote(text) + " is not one");
            }
        }
        return text;
    }

    /** An absolute http or https URL with a host. */
    static URI httpUrl(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid URL " + quote(text) + ": " + e.getReason());
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("expected an http:// or https:// URL with a host, got " + quote(text));
        }
        return uri;
    }

    /** A path starting with "/", as in an HTTP request line. */
    static String urlPath(String text) {
        if (!text.startsWith("/") || text.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            throw new IllegalArgumentException("expected a path starting with / and without spaces, got " + quote(text));
        }
        return text;
    }

    /**
     * A host name or IP address without a port ({@code admin.example.org}, {@code 10.0.0.5},
     * {@code ::1}), by the rule of {@link HostPort}; returned in lower case (names compare without
     * case). Brackets around an IPv6 address are allowed and dropped.
     */
    static String hostName(String text) {
        String host = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        String problem = HostPort.hostProblem(host);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return host.toLowerCase(java.util.Locale.ROOT);
    }

    /** A {@code Host} header value: "" (none), a host name or address, or one with a port. */
    static String hostHeader(String text) {
        if (text.isEmpty()) {
            return text;
        }
        if (text.lastIndexOf(':') > text.lastIndexOf(']')) {
            HostPort.parse(text);
        } else {
            hostName(text);
        }
        return text;
    }

    /** {@code TLSv1.2} or {@code TLSv1.3}: older protocols are not offered at all. */
    static FulcrumConfig.TlsVersion tlsVersion(String text) {
        for (FulcrumConfig.TlsVersion version : FulcrumConfig.TlsVersion.values()) {
            if (version.protocol().equals(text)) {
                return version;
            }
        }
        throw new IllegalArgumentException("expected TLSv1.2 or TLSv1.3, got " + quote(text));
    }

    /** A regular file of at most {@link FulcrumConfig.Tls#MAX_PEM_BYTES} that exists and can be read now (TLS certificates and keys). */
    static Path readableFile(String text) {
        Path path = path(text);
        if (text.isEmpty() || !Files.exists(path)) {
            throw new IllegalArgumentException("cannot read " + Escape.text(text) + ": no such file");
        } else if (Files.isDirectory(path)) {
            throw new IllegalArgumentException("cannot read " + Escape.text(text) + ": is a directory");
        } else if (!Files.isReadable(path)) {
            throw new IllegalArgumentException("cannot read " + Escape.text(text) + ": permission denied");
        }
        BoundedFile.problem(path, FulcrumConfig.Tls.MAX_PEM_BYTES).ifPresent(problem -> {
            throw new IllegalArgumentException("cannot read " + Escape.text(text) + ": " + problem);
        });
        return path;
    }

    /**
     * A file Fulcrum can append to: an existing file it may write, or a new one in an existing
     * directory it may write in. Relative paths are relative to the working directory.
     */
    static Path writableFile(String text) {
        Path path = path(text);
        if (text.isEmpty()) {
            throw new IllegalArgumentException("expected a file path, or \"-\" for standard output");
        }
        String shown = Escape.text(text);
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException("cannot write " + shown + ": is a directory");
        }
        if (Files.exists(path)) {
            if (!Files.isWritable(path)) {
                throw new IllegalArgumentException("cannot write " + shown + ": permission denied");
            }
            return path;
        }
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !Files.exists(dir)) {
            throw new IllegalArgumentException("cannot write " + shown + ": no such directory "
                    + Escape.text(String.valueOf(dir)));
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("cannot write " + shown + ": " + Escape.text(dir.toString())
                    + " is not a directory");
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("cannot write " + shown + ": cannot create files in "
                    + Escape.text(dir.toString()) + " (permission denied)");
        }
        return path;
    }

    /** {@code text} as a path; one that the file system cannot hold is a config mistake. */
    private static Path path(String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("invalid path " + quote(text));
        }
    }

    /**
     * One of an enum's constants by its config spelling: the lower-case name with '-' for '_'
     * ({@code http}, {@code webhook}).
     */
    static <E extends Enum<E>> E choice(String text, E[] constants) {
        for (E constant : constants) {
            if (spelling(constant).equals(text)) {
                return constant;
            }
        }
        StringBuilder expected = new StringBuilder();
        for (E constant : constants) {
            expected.append(expected.isEmpty() ? "" : ", ").append(spelling(constant));
        }
        throw new IllegalArgumentException("unknown value " + quote(text) + "; expected one of " + expected);
    }

    static String spelling(Enum<?> constant) {
        return constant.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /**
     * A config value echoed in an error: quoted, control characters escaped (a value cannot forge a
     * second error line), cut when long, and any URL password hidden (a webhook URL's userinfo).
     */
    static String quote(String text) {
        return Escape.quote(Redact.urls(text));
    }

    /** {@code 2} for 2.0, {@code 0.8} for 0.8: numbers in messages as an operator writes them. */
    static String plain(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
