package dev.fulcrum.server.cluster;

import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.testing.EpochNanos;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static dev.fulcrum.server.cluster.ClusterFixture.JSON;
import static dev.fulcrum.server.cluster.ClusterFixture.send;

/**
 * An operator's script adding servers to pool app at a steady rate through the admin APIs of
 * several nodes in turn, each request on its own virtual thread (a slow answer does not slow the
 * pace), at most {@link #IN_FLIGHT} at once: a tick that finds them all busy is skipped and
 * counted. Each addition names a new server (127.0.0.2:PORT from {@code firstPort} up), so a
 * server seen twice is a change applied twice. Bounded by {@code runFor}; {@link #run} returns
 * once every request answered or gave up. Used from one thread.
 */
final class PacedAdditions {

    /** Enough for 5 s of answers at 50 a second: a write waits at most that long for its node to apply it. */
    static final int IN_FLIGHT = 300;

    /** One addition: its server, when it started and ended ({@code EpochNanos}), the answer (0: none). */
    record Write(String address, long startEpochNanos, long endEpochNanos, int status, long revision, String body) {
        boolean accepted() {
            return status == 201;
        }
    }

    /** The writes in start order, and how many ticks found every slot busy. */
    record Result(List<Write> writes, int skipped) {
        List<Write> withStatus(int status) {
            return writes.stream().filter(w -> w.status() == status).toList();
        }

        /**
         * The longest time writes were unavailable, as the operator's script sees it: the longest
         * span without an accepted answer (between two in a row, by the time they answered), from the
         * first write's start to the last write's end. A write that hangs and then succeeds counts
         * as unavailable for as long as it hangs; one that fails fast counts too.
         */
        Duration longestOutage() {
            List<Long> answers = writes.stream().filter(Write::accepted).map(Write::endEpochNanos).sorted().toList();
            long longest = 0;
            long previous = writes.getFirst().startEpochNanos();
            for (long answer : answers) {
                longest = Math.max(longest, answer - previous);
                previous = answer;
            }
            long end = writes.stream().mapToLong(Write::endEpochNanos).max().orElseThrow();
            return Duration.ofNanos(Math.max(longest, end - previous));
        }

        /** How long accepted writes took to answer, in microseconds. */
        List<Long> acceptedMicros() {
            return writes.stream().filter(Write::accepted).map(w -> (w.endEpochNanos() - w.startEpochNanos()) / 1000)
                    .toList();
        }
    }

    private PacedAdditions() {
    }

    /**
     * Adds a server every {@code period} for {@code runFor}, through {@code nodes} in turn; runs
     * {@code meanwhile} on the calling thread once the writes are under way (a fault to inject).
     */
    static Result run(List<Node> nodes, int firstPort, Duration period, Duration runFor, Meanwhile meanwhile)
            throws Exception {
        List<Write> writes = new ArrayList<>();
        Semaphore slots = new Semaphore(IN_FLIGHT);
        int skipped = 0;
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            long end = System.nanoTime() + runFor.toNanos();
            int[] skippedBox = new int[1];
            Thread ticker = Thread.ofVirtual().start(() -> {
                int i = 0;
                for (long next = System.nanoTime(); next < end; next += period.toNanos(), i++) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        try {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    if (!slots.tryAcquire()) {
                        skippedBox[0]++;
                        continue;
                    }
                    Node node = nodes.get(i % nodes.size());
                    String address = "127.0.0.2:" + (firstPort + i);
                    threads.submit(() -> {
                        try {
                            Write w = add(node, address);
                            synchronized (writes) {
                                writes.add(w);
                            }
                        } finally {
                            slots.release();
                        }
                    });
                }
            });
            meanwhile.run();
            ticker.join(runFor.toMillis() + 5_000);
            skipped = skippedBox[0]; // the ticker's writes happen-before its end (join)
        } // waits for every write: each has its 10 s request timeout
        List<Write> sorted = new ArrayList<>(writes);
        sorted.sort((a, b) -> Long.compare(a.startEpochNanos(), b.startEpochNanos()));
        return new Result(sorted, skipped);
    }

    /** What runs while the writes go on. */
    @FunctionalInterface
    interface Meanwhile {
        void run() throws Exception;
    }

    private static Write add(Node node, String address) {
        long start = EpochNanos.now();
        try {
            HttpResponse<String> r = send(node, "POST", "/api/v1/pools/app/servers",
                    "{\"address\":\"" + address + "\",\"weight\":0}");
            long revision = r.statusCode() == 201 ? JSON.readTree(r.body()).path("revision").asLong() : 0;
            return new Write(address, start, EpochNanos.now(), r.statusCode(), revision, r.body());
        } catch (IOException e) {
            return new Write(address, start, EpochNanos.now(), 0, 0, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Write(address, start, EpochNanos.now(), 0, 0, "interrupted");
        }
    }
}
