package dev.fulcrum.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * Real etcd members ({@code etcd} from Debian's etcd-server) on loopback — or, with
 * {@link #startIn}, on an address inside a test's {@link Netns} — on free ports, a data
 * directory under the given one, output in {@code target/it-logs/etcd-NAME.log}; client ports
 * plain HTTP or TLS with client certificates ({@link Tls}), health asked on a plain metrics port. Short heartbeat
 * and election timeouts so that a new leader is elected within about a second of a kill. Members
 * are stopped by PID (SIGKILL: etcd is crash-safe, and the data directory is the test's); in a
 * namespace, close this before the namespace. Used from the test thread only.
 */
public final class EtcdCluster implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    /**
     * TLS on the members' client port: etcd's certificate and key, and the CA whose certificates it
     * requires of clients (mutual TLS, {@code --client-cert-auth}). Peers talk plain HTTP.
     */
    public record Tls(Path ca, Path cert, Path key) {
    }

    private final Path dataDir;
    private final Tls tls;
    private final String host;
    /** Empty on loopback; else {@code ip netns exec NS}, before etcd and before the curl that asks it. */
    private final List<String> commandPrefix;
    private final List<String> names = new ArrayList<>();
    private final List<Integer> clientPorts = new ArrayList<>();
    private final List<Integer> peerPorts = new ArrayList<>();
    /** Plain HTTP /health (and /metrics) of each member, whatever its client port speaks. */
    private final List<Integer> metricsPorts = new ArrayList<>();
    private final Process[] processes;
    private final String initialCluster;

    private EtcdCluster(Path dataDir, int members, String host, List<String> commandPrefix, Tls tls) throws IOException {
        this.dataDir = dataDir;
        this.tls = tls;
        this.host = host;
        this.commandPrefix = commandPrefix;
        this.processes = new Process[members];
        List<String> peers = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            names.add("e" + (i + 1));
            clientPorts.add(Loopback.freePort());
            peerPorts.add(Loopback.freePort());
            metricsPorts.add(Loopback.freePort());
            peers.add(names.get(i) + "=http://" + host + ":" + peerPorts.get(i));
        }
        this.initialCluster = String.join(",", peers);
    }

    /** Whether an {@code etcd} binary is on the PATH (Debian etcd-server). */
    public static boolean available() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "etcd"))) {
                return true;
            }
        }
        return false;
    }

    /** Starts {@code members} members and waits until every one is healthy (a leader elected). */
    public static EtcdCluster start(int members, Path dataDir) throws IOException {
        return start(members, dataDir, null);
    }

    /**
     * Starts {@code members} members whose client port speaks TLS ({@code tls}; null: plain HTTP).
     * Over TLS only {@link #endpoints()}, {@link #kill}, {@link #restart} and {@link #close()}
     * serve: the JSON calls ({@link #leader()}, {@link #revision}, {@link #compact}) speak plain HTTP.
     */
    public static EtcdCluster start(int members, Path dataDir, Tls tls) throws IOException {
        return start(new EtcdCluster(dataDir, members, "127.0.0.1", List.of(), tls));
    }

    /**
     * Starts {@code members} members in {@code netns}, all on {@code host} (an address the test gave
     * that namespace), and waits until every one is healthy — asked with {@code curl} inside the
     * namespace, since the test's own namespace has no route there.
     */
    public static EtcdCluster startIn(Netns netns, String host, int members, Path dataDir) throws IOException {
        return start(new EtcdCluster(dataDir, members, host, netns.commandPrefix(), null));
    }

    private static EtcdCluster start(EtcdCluster cluster) throws IOException {
        int members = cluster.size();
        try {
            for (int i = 0; i < members; i++) {
                cluster.startMember(i);
            }
            for (int i = 0; i < members; i++) {
                cluster.awaitHealthy(i, Duration.ofSeconds(20));
            }
        } catch (RuntimeException | IOException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private void startMember(int i) throws IOException {
        String client = endpoint(i);
        String peer = "http://" + host + ":" + peerPorts.get(i);
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(List.of("etcd", "--name", names.get(i),
                "--data-dir", dataDir.resolve(names.get(i)).toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--listen-metrics-urls", "http://" + host + ":" + metricsPorts.get(i),
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", "fulcrum-it",
                "--heartbeat-interval", "50", "--election-timeout", "500"));
        if (tls != null) {
            command.addAll(List.of("--cert-file", tls.cert().toString(), "--key-file", tls.key().toString(),
                    "--trusted-ca-file", tls.ca().toString(), "--client-cert-auth"));
        }
        Path log = ItLogs.file("etcd-" + names.get(i));
        processes[i] = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** The client URLs, one per member, as a {@code cluster.etcd} list wants them. */
    public List<String> endpoints() {
        return clientPorts.stream().map(p -> (tls == null ? "http" : "https") + "://" + host + ":" + p).toList();
    }

    /** The YAML flow list of {@link #endpoints()}. */
    public String endpointsYaml() {
        return "[" + String.join(", ", endpoints().stream().map(e -> "\"" + e + "\"").toList()) + "]";
    }

    public String endpoint(int member) {
        return endpoints().get(member);
    }

    public int size() {
        return processes.length;
    }

    /** SIGKILL of one member, as a crash; returns once it is gone. */
    public void kill(int member) throws InterruptedException {
        Process p = processes[member];
        p.destroyForcibly();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("etcd " + names.get(member) + " (pid " + p.pid() + ") did not die");
        }
    }

    /** Starts a killed member again on its data directory, and waits until it is healthy. */
    public void restart(int member) throws IOException {
        restart(List.of(member));
    }

    /** Starts killed members again, all at once, and waits until each is healthy (so quorum answers). */
    public void restart(List<Integer> members) throws IOException {
        for (int member : members) {
            startMember(member);
        }
        for (int member : members) {
            awaitHealthy(member, Duration.ofSeconds(20));
        }
    }

    /** The index of the member that is leader now, as the members themselves say. */
    public int leader() {
        long leaderId = -1;
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < processes.length; i++) {
            JsonNode status = post(i, "/v3/maintenance/status", "{}");
            ids.add(status == null ? -2 : Long.parseUnsignedLong(status.path("header").path("member_id").asText("0")));
            if (status != null) {
                leaderId = Long.parseUnsignedLong(status.path("leader").asText("0"));
            }
        }
        return ids.indexOf(leaderId);
    }

    /** The cluster's current revision, asked of {@code member}. */
    public long revision(int member) {
        JsonNode range = post(member, "/v3/kv/range", "{\"key\":\"AA==\"}");
        if (range == null) {
            throw new IllegalStateException("etcd " + names.get(member) + " did not answer");
        }
        return range.path("header").path("revision").asLong();
    }

    /** Compacts the history up to {@code revision} (physically: watches from before it fail). */
    public void compact(int member, long revision) {
        if (post(member, "/v3/kv/compaction", "{\"revision\":\"" + revision + "\",\"physical\":true}") == null) {
            throw new IllegalStateException("compaction to " + revision + " failed");
        }
    }

    private void awaitHealthy(int member, Duration bound) {
        await("etcd " + names.get(member) + " healthy").atMost(bound).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!processes[member].isAlive()) {
                        throw new IllegalStateException("etcd " + names.get(member) + " exited: see "
                                + ItLogs.file("etcd-" + names.get(member)));
                    }
                    JsonNode health = get("http://" + host + ":" + metricsPorts.get(member) + "/health");
                    return health != null && "true".equals(health.path("health").asText());
                });
    }

    /** A plain HTTP GET of {@code url}: from the test, or with curl inside the namespace. */
    private JsonNode get(String url) {
        if (!commandPrefix.isEmpty()) {
            return curl(List.of(url));
        }
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    private JsonNode post(int member, String path, String body) {
        if (!commandPrefix.isEmpty()) {
            return curl(List.of("-d", body, endpoint(member) + path));
        }
        return send(HttpRequest.newBuilder(URI.create(endpoint(member) + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** {@code curl ARGS} in the namespace: the JSON answer, or null when it fails or takes over a second. */
    private JsonNode curl(List<String> args) {
        List<String> command = new ArrayList<>(commandPrefix);
        command.addAll(List.of("curl", "-sf", "-m", "1"));
        command.addAll(args);
        try {
            Netns.Result r = Netns.host(Duration.ofSeconds(5), command.toArray(String[]::new));
            return r.ok() ? JSON.readTree(r.stdout()) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The JSON answer, or null when the member does not answer 200 within a second. */
    private static JsonNode send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = HTTP.send(request.timeout(Duration.ofSeconds(1)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Kills every member still running, by PID. */
    @Override
    public void close() {
        for (Process p : processes) {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (Process p : processes) {
            if (p != null) {
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
