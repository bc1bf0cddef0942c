package dev.fulcrum.server.config;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig.Cluster;
import dev.fulcrum.server.config.FulcrumConfig.EtcdTls;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Binds the {@code cluster} section (spec cluster.md): every mistake at its line, every absent key
 * at its default. Stateless.
 */
final class ClusterBinder {

    static final List<String> KEYS = List.of("etcd", "prefix", "node", "lease-ttl", "state-dir", "tls");
    static final List<String> TLS_KEYS = List.of("ca", "cert", "key");

    static final String DEFAULT_PREFIX = "/fulcrum";
    static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(5);
    static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/fulcrum");

    /** etcd counts lease TTLs in whole seconds; below 2 s a lease can expire between two renewals. */
    static final Duration MIN_LEASE_TTL = Duration.ofSeconds(2);
    static final Duration MAX_LEASE_TTL = Duration.ofHours(1);

    /** A node name is one key segment under {@code members/}: no '/', nothing a shell or a URL quotes. */
    private static final Pattern NODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    /** A prefix is a key path: '/' then segments, no trailing '/', no blanks. */
    private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._-]+)+");

    private ClusterBinder() {
    }

    /**
     * @param instanceName the top-level {@code name}, the default {@code node}
     * @param listens      the node file's listeners written with only {@code name} and {@code listen}
     */
    static Cluster bind(Section s, String instanceName, Map<String, HostPort> listens) {
        List<URI> etcd = s.values("etcd", List.of(), ClusterBinder::etcdUrl);
        if (!s.has("etcd") || s.isEmptyList("etcd")) {
            s.error("etcd", "at least one etcd URL is required, like [\"http://10.0.0.5:2379\"]");
        }
        String prefix = s.get("prefix", DEFAULT_PREFIX, ClusterBinder::prefix);
        String node = s.has("node") ? s.get("node", null, ClusterBinder::node) : defaultNode(s, instanceName);
        Duration leaseTtl = s.get("lease-ttl", DEFAULT_LEASE_TTL, ClusterBinder::leaseTtl);
        Path stateDir = s.get("state-dir", DEFAULT_STATE_DIR, ClusterBinder::directory);
        Section tlsSection = s.section("tls", TLS_KEYS);
        EtcdTls tls = tlsSection == null ? null : tls(tlsSection);
        boolean anyHttps = etcd.stream().anyMatch(u -> u.getScheme().equals("https"));
        if (tls == null && anyHttps) {
            s.error("etcd", "https:// etcd URLs need cluster.tls with at least ca");
        }
        return new Cluster(etcd, prefix, node, leaseTtl, stateDir, tls, listens);
    }

    private static String defaultNode(Section s, String instanceName) {
        if (NODE.matcher(instanceName).matches()) {
            return instanceName;
        }
        s.error("node", "the top-level name " + ConfigValues.quote(instanceName)
                + " cannot name a node; set cluster.node (letters, digits, '.', '_' or '-', at most 63)");
        return null;
    }

    private static EtcdTls tls(Section s) {
        Path ca = s.get("ca", null, ClusterBinder::optionalFile);
        Path cert = s.get("cert", null, ClusterBinder::optionalFile);
        Path key = s.get("key", null, ClusterBinder::optionalFile);
        if ((cert == null) != (key == null)) {
            s.error(cert == null ? "key" : "cert", "give both cert and key (a client certificate), or neither");
        }
        if (ca == null && cert == null) {
            return null; // tls: {ca: "", cert: "", key: ""} as the spec writes it: plain http
        }
        return new EtcdTls(ca, cert, key);
    }

    /** An etcd client URL: http or https, a host and a port, nothing else. */
    static URI etcdUrl(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid URL " + ConfigValues.quote(text) + ": " + e.getReason());
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                || uri.getPort() < 1) {
            throw new IllegalArgumentException("expected an etcd URL like http://10.0.0.5:2379, got "
                    + ConfigValues.quote(text));
        }
        if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")
                || uri.getRawQuery() != null) {
            throw new IllegalArgumentException("an etcd URL has no path or query, got " + ConfigValues.quote(text));
        }
        return uri;
    }

    static String prefix(String text) {
        if (!PREFIX.matcher(text).matches()) {
            throw new IllegalArgumentException("expected a key prefix like /fulcrum (starting with /, no trailing /, "
                    + "letters, digits, '.', '_' or '-'), got " + ConfigValues.quote(text));
        }
        return text;
    }

    static String node(String text) {
        if (!NODE.matcher(text).matches()) {
            throw new IllegalArgumentException("invalid node name " + ConfigValues.quote(text)
                    + "; expected letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)");
        }
        return text;
    }

    private static Duration leaseTtl(String text) {
        Duration d = ConfigValues.duration(text);
        if (d.compareTo(MIN_LEASE_TTL) < 0 || d.compareTo(MAX_LEASE_TTL) > 0) {
            throw new IllegalArgumentException(text + " is out of range; expected 2s..1h");
        }
        if (d.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException(text + " is not whole seconds (etcd counts lease TTLs in seconds)");
        }
        return d;
    }

    private static Path directory(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("must not be empty; a directory this node may write, like /var/lib/fulcrum");
        }
        return Path.of(text);
    }

    private static Path optionalFile(String text) {
        return text.isEmpty() ? null : ConfigValues.readableFile(text);
    }
}
