package dev.fulcrum.core;

import dev.fulcrum.core.text.Escape;

import java.net.Inet6Address;

/**
 * A {@code host:port} pair as written in the config and the admin API: {@code 127.0.0.1:9101},
 * {@code example.org:80}, {@code [::1]:8080}. The host is kept as written (no DNS lookup here);
 * {@link #toString()} gives back the canonical spelling used as a server's identity.
 *
 * <p>This is the one gate every address passes (config, reload, admin API, the exec provisioner's
 * output): the host must be a host name (RFC 1123: labels of letters, digits and inner hyphens,
 * 1..63 characters each, at most 253 in all), a dotted-quad IPv4 address or an IPv6 address
 * (bracketed in {@code host:port} text, without a zone index), and the port 1..65535. So a server's
 * identity can never carry a line break, a control character, markup, a path or a userinfo into a
 * log line, a metric label or the dashboard. Errors are one line and escape the input they quote.
 *
 * <p>Immutable and thread-safe.
 */
public record HostPort(String host, int port) {

    /** RFC 1035/1123: a whole name is at most 253 characters, a label 1..63. */
    private static final int MAX_NAME = 253;
    private static final int MAX_LABEL = 63;

    /** @throws IllegalArgumentException with a one-line reason when host or port is not valid */
    public HostPort {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("empty host");
        }
        String problem = hostProblem(host);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1..65535");
        }
    }

    /**
     * Parses {@code host:port} or {@code [v6]:port}.
     *
     * @throws IllegalArgumentException with a one-line reason when the text is not an address
     */
    public static HostPort parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("expected host:port, got an empty value");
        }
        String host;
        String portText;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("expected [ipv6]:port, got " + Escape.quote(text));
            }
            host = text.substring(1, close);
            if (host.indexOf(':') < 0) {
                throw new IllegalArgumentException("only an IPv6 address goes in brackets, got " + Escape.quote(text));
            }
            portText = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException("expected host:port"
                        + (text.indexOf(':') != colon ? " (an IPv6 address in brackets, like [::1]:80)" : "")
                        + ", got " + Escape.quote(text));
            }
            host = text.substring(0, colon);
            portText = text.substring(colon + 1);
        }
        if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("port " + Escape.quote(portText) + " is not a number 1..65535 in "
                    + Escape.quote(text));
        }
        int port = Integer.parseInt(portText);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1..65535 in " + Escape.quote(text));
        }
        String problem = hostProblem(host);
        if (problem != null) {
            throw new IllegalArgumentException(problem + " in " + Escape.quote(text));
        }
        return new HostPort(host, port);
    }

    /**
     * Why {@code host} is not a host name, an IPv4 or an IPv6 address (one line, the input escaped),
     * or null when it is one. Also the rule for names outside a {@code host:port}, such as
     * {@code admin.allowed-hosts}.
     */
    public static String hostProblem(String host) {
        if (host.isEmpty()) {
            return "empty host";
        }
        if (host.indexOf(':') >= 0) {
            return ipv6Problem(host);
        }
        if (host.length() > MAX_NAME) {
            return "host name of " + host.length() + " characters is longer than " + MAX_NAME;
        }
        String[] labels = host.split("\\.", -1);
        for (String label : labels) {
            if (label.isEmpty()) {
                return "host " + Escape.quote(host) + " has an empty label (two dots, or a dot at an end)";
            }
            if (label.length() > MAX_LABEL) {
                return "host " + Escape.quote(host) + " has a label longer than " + MAX_LABEL + " characters";
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!isLetterOrDigit(c) && c != '-') {
                    return "host " + Escape.quote(host) + " has " + describe(c)
                            + "; a host name has letters, digits, '-' and '.' only";
                }
            }
            if (label.startsWith("-") || label.endsWith("-")) {
                return "host " + Escape.quote(host) + " has a label that starts or ends with '-'";
            }
        }
        // A name never ends in an all-digit label (RFC 3696 2): this is a mistyped IPv4 address.
        if (labels[labels.length - 1].chars().allMatch(c -> c >= '0' && c <= '9') && !isIpv4(host)) {
            return "host " + Escape.quote(host) + " is not an IPv4 address (four numbers 0..255 with dots)";
        }
        return null;
    }

    private static String ipv6Problem(String host) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '%') {
                return "IPv6 address " + Escape.quote(host) + " has a zone index (%...), which is not supported";
            }
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.')) {
                return "IPv6 address " + Escape.quote(host) + " has " + describe(c);
            }
        }
        try {
            // only hex digits, ':' and '.' reach here: a literal, never a name, so no lookup happens
            Inet6Address.ofLiteral(host);
            return null;
        } catch (IllegalArgumentException e) {
            return Escape.quote(host) + " is not an IPv6 address";
        }
    }

    private static boolean isLetterOrDigit(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }

    private static String describe(char c) {
        return c < 0x20 || c >= 0x7f
                ? String.format("the character U+%04X", (int) c)
                : c == ' ' ? "a space" : "'" + c + "'";
    }

    /**
     * Whether the host is a dotted-quad IPv4 address ({@code 10.0.0.21}), not a name or IPv6: DSR
     * reaches its servers by their IPv4 neighbour entries, so its pool takes only these.
     */
    public boolean isIpv4() {
        return isIpv4(host);
    }

    private static boolean isIpv4(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    // equals and hashCode written out, with the record's meaning: the generated ones are linked on
    // their first call by an invokedynamic bootstrap (ObjectMethods) that spins ~13 classes at run
    // time, which the JDK 25 AOT cache does not keep, and every start compares the config's
    // addresses (start-up, issue 13).
    @Override
    public boolean equals(Object o) {
        return o instanceof HostPort other && port == other.port && host.equals(other.host);
    }

    @Override
    public int hashCode() {
        return 31 * host.hashCode() + port;
    }
}
