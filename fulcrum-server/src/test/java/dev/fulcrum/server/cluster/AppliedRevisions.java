package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.testing.CloseAfterEach;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.fulcrum.server.cluster.ClusterFixture.JSON;
import static org.awaitility.Awaitility.await;

/**
 * A node's {@code config-applied} events as a user sees them on {@code GET /api/v1/events} (SSE),
 * heard live on a plain socket: which revisions the node applied, in its order, and when — the
 * event's {@code at}, the node's own wall clock, taken once the reload serving that revision
 * returned. Test and node run on one machine, so {@code at} compares with {@code Instant.now()}
 * taken here without the delay of polling. Thread-safe; closing ends the subscription.
 */
final class AppliedRevisions implements AutoCloseable {

    private static final Pattern REVISION = Pattern.compile("revision (\\d+) applied");

    /** One config-applied event: the revision and the node's instant, in epoch nanoseconds. */
    record Applied(long revision, long atEpochNanos) {
    }

    private final Node node;
    private final Socket socket;
    private final List<Applied> applied = new ArrayList<>();

    private AppliedRevisions(Node node, Socket socket) {
        this.node = node;
        this.socket = socket;
    }

    /** Subscribes to {@code node}'s events; the replay of recent ones comes first. */
    static AppliedRevisions follow(Node node) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", node.adminPort()), 2_000);
        socket.getOutputStream().write(("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        AppliedRevisions revisions = new AppliedRevisions(node, socket);
        Thread.ofVirtual().name("sse-" + node.name()).start(revisions::read);
        return revisions;
    }

    /** Follows each of {@code nodes}, in their order, until {@code closer} closes them after the test. */
    static List<AppliedRevisions> followAll(CloseAfterEach closer, List<Node> nodes) throws IOException {
        List<AppliedRevisions> all = new ArrayList<>();
        for (Node n : nodes) {
            all.add(closer.add(follow(n)));
        }
        return all;
    }

    /** Reads until the socket closes; the chunked framing's size lines are skipped as non-event lines. */
    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                StandardCharsets.UTF_8))) {
            String event = "";
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ") && event.equals("config-applied")) {
                    JsonNode data = JSON.readTree(line.substring(6));
                    Matcher m = REVISION.matcher(data.path("detail").asText());
                    if (m.find()) {
                        Instant at = Instant.parse(data.path("at").asText());
                        synchronized (this) {
                            applied.add(new Applied(Long.parseLong(m.group(1)),
                                    at.getEpochSecond() * 1_000_000_000L + at.getNano()));
                        }
                    }
                }
            }
        } catch (IOException e) {
            // closed: the subscription is over
        }
    }

    /** Every config-applied heard so far, in the node's order. */
    synchronized List<Applied> all() {
        return List.copyOf(applied);
    }

    /** The revisions of {@link #all()}. */
    List<Long> revisions() {
        return all().stream().map(Applied::revision).toList();
    }

    /** When the node first served {@code revision} or a later one (a re-read may cover several at once). */
    synchronized OptionalLong appliedAt(long revision) {
        return applied.stream().filter(a -> a.revision() >= revision).mapToLong(Applied::atEpochNanos).findFirst();
    }

    /** Waits until the node has applied {@code revision} or a later one. */
    AppliedRevisions awaitApplied(long revision, Duration bound) {
        await(node.name() + " applies revision " + revision).atMost(bound).pollInterval(Duration.ofMillis(10))
                .until(() -> appliedAt(revision).isPresent());
        return this;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
