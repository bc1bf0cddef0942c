package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.sun.net.httpserver.HttpServer;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.EtcdCluster;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the cluster ITs share, as a class-level extension ({@code @RegisterExtension static final
 * ClusterFixture fx = new ClusterFixture();}): before all tests, a temporary directory, an etcd
 * cluster of 3 on loopback and one backend (a JDK HttpServer answering 200 "backend"), all gone
 * after all tests (the class is skipped, by an assumption, without an etcd binary); Fulcrum node
 * processes n1..nN under a test's own key prefix (files and state dirs named after the prefix, so
 * tests never see each other's keys or files); and the HTTP and JSON calls the tests make to nodes.
 * {@link #withMutualTls()} makes a CA and certificates first and starts etcd with TLS on its
 * client ports, requiring the node's certificate.
 */
final class ClusterFixture implements BeforeAllCallback, AfterAllCallback {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    static final List<String> JVM = List.of("-Xmx128m", "-XX:TieredStopAtLevel=1",
            "--sun-misc-unsafe-memory-access=allow");

    /** A node started by {@link #startNodes}: its config file, its web and admin ports, its process. */
    record Node(String name, Path file, int listenPort, int adminPort, FulcrumProcess process) {
    }

    /** The certificates of a fixture whose etcd speaks mutual TLS: its CA, a node's, and another CA. */
    record Certificates(TestCertificates.Files ca, TestCertificates.Files node, TestCertificates.Files otherCa) {
    }

    private final boolean tls;
    private Path dir;
    private Certificates certificates;
    private EtcdCluster etcd;
    private HttpServer backend;

    /** A fixture whose etcd speaks plain HTTP. */
    ClusterFixture() {
        this(false);
    }

    private ClusterFixture(boolean tls) {
        this.tls = tls;
    }

    /**
     * A fixture whose etcd members speak TLS on their client ports and require a client certificate
     * signed by the fixture's CA; {@link #store} and {@link #tlsYaml} use the node's certificate.
     */
    static ClusterFixture withMutualTls() {
        return new ClusterFixture(true);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException, InterruptedException {
        assumeTrue(EtcdCluster.available(), "no etcd binary: apt-get install etcd-server");
        dir = Files.createTempDirectory("fulcrum-cluster-it-");
        EtcdCluster.Tls etcdTls = null;
        if (tls) {
            Path certs = Files.createDirectories(dir.resolve("tls"));
            TestCertificates.Files ca = TestCertificates.create(certs, "ca", TestCertificates.KeyType.ECDSA,
                    "fulcrum-it-ca", List.of(), "01");
            TestCertificates.Files member = TestCertificates.signed(certs, "etcd", ca, "/CN=etcd", "IP:127.0.0.1");
            TestCertificates.Files node = TestCertificates.signed(certs, "node", ca, "/CN=fulcrum-node", null);
            TestCertificates.Files otherCa = TestCertificates.create(certs, "other-ca", TestCertificates.KeyType.ECDSA,
                    "another-ca", List.of(), "02");
            certificates = new Certificates(ca, node, otherCa);
            etcdTls = new EtcdCluster.Tls(ca.cert(), member.cert(), member.key());
        }
        etcd = EtcdCluster.start(3, dir.resolve("etcd"), etcdTls);
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        backend.createContext("/", exchange -> {
            byte[] body = "backend\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        backend.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (backend != null) {
            backend.stop(0);
        }
        if (etcd != null) {
            etcd.close();
        }
        if (dir != null) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException | UncheckedIOException e) {
                // best effort, as for a temporary directory: what is left does no harm
            }
        }
    }

    /** This test class's temporary directory (node files, state dirs, etcd data). */
    Path dir() {
        return dir;
    }

    EtcdCluster etcd() {
        return etcd;
    }

    int backendPort() {
        return backend.getAddress().getPort();
    }

    /** Writes a shared config straight to etcd under {@code prefix} (as push does, without a process). */
    void writeShared(String prefix, List<String> endpoints, String yaml) throws IOException {
        ObjectNode tree = (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(yaml);
        try (EtcdStore store = store(prefix, endpoints)) {
            store.commit(SharedConfig.split(tree, new KeyLayout(prefix)), List.of());
        }
    }

    EtcdStore store(String prefix, List<String> endpoints) {
        FulcrumConfig.EtcdTls etcdTls = certificates == null ? null : new FulcrumConfig.EtcdTls(
                certificates.ca().cert(), certificates.node().cert(), certificates.node().key());
        return new EtcdStore(new FulcrumConfig.Cluster(endpoints.stream().map(URI::create).toList(), prefix, "it",
                Duration.ofSeconds(5), dir, etcdTls, Map.of()));
    }

    /** The certificates of a {@link #withMutualTls()} fixture. */
    Certificates certificates() {
        return certificates;
    }

    /**
     * A {@code cluster.tls} line (indented for the cluster section) trusting {@code ca}, with the
     * node's certificate when {@code clientCertificate}.
     */
    String tlsYaml(Path ca, boolean clientCertificate) {
        return clientCertificate
                ? "  tls: {ca: %s, cert: %s, key: %s}\n".formatted(ca, certificates.node().cert(),
                        certificates.node().key())
                : "  tls: {ca: %s}\n".formatted(ca);
    }

    /**
     * The shared config every test starts from unless it writes its own: listener web, pool app with
     * the one backend, no health checks (faster, fewer moving parts), a 1 s drain, log alerts.
     */
    String sharedYaml() {
        return """
                listeners:
                  - {name: web, listen: 127.0.0.1:1, pool: app}
                pools:
                  - name: app
                    health-check: {type: none}
                    drain-timeout: 1s
                    servers:
                      - {address: 127.0.0.1:%d}
                alerts:
                  - type: log
                """.formatted(backendPort());
    }

    /** Writes {@link #sharedYaml()} straight to etcd under {@code prefix}. */
    void writeShared(String prefix) throws IOException {
        writeShared(prefix, etcd.endpoints(), sharedYaml());
    }

    /** Writes {@code yaml} straight to etcd under {@code prefix}. */
    void writeShared(String prefix, String yaml) throws IOException {
        writeShared(prefix, etcd.endpoints(), yaml);
    }

    /** {@link #sharedYaml()} as a file {@code cluster push} takes: with a name and a cluster section. */
    Path sharedFile(String prefix, List<String> endpoints, String clusterExtra) throws IOException {
        Path file = dir.resolve(prefix.substring(1) + "-shared.yaml");
        Files.writeString(file, """
                name: ops
                cluster:
                  etcd: %s
                  prefix: %s
                %s""".formatted(yamlList(endpoints), prefix, clusterExtra) + sharedYaml());
        return file;
    }

    /** Nodes n1..nN under {@code prefix} on this class's etcd, lease-ttl 5 s: {@link #startNodes}. */
    List<Node> startNodes(CloseAfterEach closer, String prefix, int count) throws Exception {
        return startNodes(closer, prefix, count, etcd.endpoints(), "5s");
    }

    List<Node> startNodes(CloseAfterEach closer, String prefix, int count, List<String> endpoints, String leaseTtl)
            throws Exception {
        return startNodes(closer, prefix, count, endpoints, leaseTtl, "");
    }

    /**
     * Starts {@code count} nodes n1..nN under {@code prefix}, each with its own listen address for web,
     * closed by {@code closer} after the test, and waits until each serves and has its cluster view.
     *
     * @param clusterExtra more lines of the nodes' cluster section (indented by 2), such as {@code tls:}
     */
    List<Node> startNodes(CloseAfterEach closer, String prefix, int count, List<String> endpoints, String leaseTtl,
                          String clusterExtra) throws Exception {
        List<Node> nodes = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            String name = "n" + i;
            int listen = Loopback.freePort();
            int admin = Loopback.freePort();
            Path file = dir.resolve(prefix.substring(1) + "-" + name + ".yaml");
            Files.writeString(file, """
                    name: %s
                    admin: {listen: 127.0.0.1:%d}
                    cluster:
                      etcd: %s
                      prefix: %s
                      lease-ttl: %s
                      state-dir: %s
                    %slisteners:
                      - {name: web, listen: 127.0.0.1:%d}
                    """.formatted(name, admin, yamlList(endpoints), prefix, leaseTtl,
                    dir.resolve(prefix.substring(1) + "-state-" + name), clusterExtra, listen));
            FulcrumProcess p = closer.add(FulcrumProcess.start(prefix.substring(1) + "-" + name, JVM, "run", "-c",
                    file.toString()));
            nodes.add(new Node(name, file, listen, admin, p));
        }
        for (Node n : nodes) {
            n.process().awaitPort(n.listenPort(), Duration.ofSeconds(40));
            n.process().awaitPort(n.adminPort(), Duration.ofSeconds(10));
            awaitClusterView(n);
        }
        return nodes;
    }

    /** Waits until the first node's member list holds all of {@code nodes}. */
    static void awaitMembers(List<Node> nodes) {
        await(nodes.size() + " members").atMost(Duration.ofSeconds(10))
                .until(() -> cluster(nodes.getFirst()).path("members").size() == nodes.size());
    }

    /** The cluster view is attached right after the listeners bind: wait for it. */
    static void awaitClusterView(Node n) {
        await(n.name() + " cluster view").atMost(Duration.ofSeconds(10)).until(() -> HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminPort() + "/api/v1/cluster")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }

    static String yamlList(List<String> endpoints) {
        return "[" + String.join(", ", endpoints.stream().map(e -> "\"" + e + "\"").toList()) + "]";
    }

    /** A node's admin API {@code GET path}, answered 200 (asserted), as JSON. */
    static JsonNode getJson(int port, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** A node's admin API {@code GET path}, whatever its status. */
    static HttpResponse<String> get(Node n, String path) throws IOException, InterruptedException {
        return send(n, "GET", path, null);
    }

    /** A request to a node's admin API, with {@code body} (none when null), whatever its status. */
    static HttpResponse<String> send(Node n, String method, String path, String body)
            throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The status of {@code GET /} on a node's web listener. The 5 s bound is for a machine shared
     * by many builds: a node that does not answer fails the test; a slow CPU should not.
     */
    static int status(int port) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** {@code GET /api/v1/cluster} of a node (200 asserted). */
    static JsonNode cluster(Node n) throws IOException, InterruptedException {
        return getJson(n.adminPort(), "/api/v1/cluster");
    }

    /** {@code GET /api/v1/pools/app/servers} of a node (200 asserted). */
    static JsonNode servers(Node n) throws IOException, InterruptedException {
        return getJson(n.adminPort(), "/api/v1/pools/app/servers");
    }

    static String metrics(Node n) throws IOException, InterruptedException {
        return get(n, "/metrics").body();
    }

    /** {@code kill -NAME} of a node's process ({@code STOP}, {@code CONT}, {@code HUP}). */
    static void signal(String name, Node n) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(n.process().pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -" + name).isZero();
    }

    /** What {@code fulcrum cluster push} did: its exit code, its output, the revision it printed (-1: none). */
    record Pushed(int exitCode, String output, long revision) {
    }

    /** Runs {@code fulcrum cluster push -c file} and waits for it. */
    static Pushed push(Path file) throws IOException, InterruptedException {
        FulcrumProcess push = FulcrumProcess.start("cluster-push", JVM, "cluster", "push", "-c", file.toString());
        assertThat(push.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        String output = push.output();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("revision (\\d+)").matcher(output);
        return new Pushed(push.process().exitValue(), output, m.find() ? Long.parseLong(m.group(1)) : -1);
    }
}
