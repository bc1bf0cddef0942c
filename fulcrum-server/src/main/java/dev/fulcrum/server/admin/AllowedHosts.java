package dev.fulcrum.server.admin;

import dev.fulcrum.core.HostPort;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which {@code Host} header values the admin API answers: its own address (the host of
 * {@code admin.listen} as written, or the IP address the connection arrived on — which is what a
 * wildcard {@code 0.0.0.0} listen means), {@code localhost}, and the names of
 * {@code admin.allowed-hosts}; with or without a port. A request without {@code Host} passes: every
 * browser sends one, so it cannot come from a web page.
 *
 * <p>Why: with DNS rebinding a web page of {@code rebind.evil.example} gets its name to resolve to
 * the admin address, and the operator's browser then sends it same-origin requests — {@code Origin}
 * and {@code Host} both {@code rebind.evil.example}. The {@code Host} is the one thing the page cannot
 * choose, so refusing names the admin API does not know stops both its changes and its reads.
 *
 * <p>Immutable and thread-safe.
 */
final class AllowedHosts {

    private final Set<String> names;

    /** @param extra lower-case names from {@code admin.allowed-hosts} */
    AllowedHosts(HostPort listen, List<String> extra) {
        java.util.HashSet<String> all = new java.util.HashSet<>(extra);
        all.add("localhost");
        all.add(listen.host().toLowerCase(Locale.ROOT));
        this.names = Set.copyOf(all);
    }

    /** Whether a request with this {@code Host} header, arrived on {@code local}, may be answered. */
    boolean allows(String hostHeader, InetSocketAddress local) {
        if (hostHeader == null) {
            return true;
        }
        String host = hostOf(hostHeader.strip());
        if (host == null) {
            return false;
        }
        host = host.toLowerCase(Locale.ROOT);
        if (names.contains(host)) {
            return true;
        }
        InetAddress literal = literal(host);
        if (literal == null) {
            return false;
        }
        for (String name : names) {
            if (literal.equals(literal(name))) {
                return true; // the same address spelled differently (::1 and 0:0:0:0:0:0:0:1)
            }
        }
        return local != null && literal.equals(local.getAddress());
    }

    /** The host part of {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}; null when malformed. */
    private static String hostOf(String value) {
        String host;
        String port;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            if (close < 0) {
                return null;
            }
            host = value.substring(1, close);
            String rest = value.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                return null;
            }
            port = rest.isEmpty() ? "" : rest.substring(1);
        } else {
            int colon = value.indexOf(':');
            if (colon != value.lastIndexOf(':')) {
                return null;
            }
            host = colon < 0 ? value : value.substring(0, colon);
            port = colon < 0 ? "" : value.substring(colon + 1);
        }
        if (port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        return host.isEmpty() || HostPort.hostProblem(host) != null ? null : host;
    }

    /** The address of an IP literal (a valid host per {@link HostPort}), or null for a name. */
    private static InetAddress literal(String host) {
        boolean ipv6 = host.indexOf(':') >= 0;
        boolean ipv4 = !ipv6 && host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
        if (!ipv4 && !ipv6) {
            return null;
        }
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
