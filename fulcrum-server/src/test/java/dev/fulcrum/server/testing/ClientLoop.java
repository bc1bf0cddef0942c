package dev.fulcrum.server.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * A client that keeps asking: a bash loop in a {@link Netns} running one {@code curl} after the
 * other against one URL, as a user's script would, and printing one line per request:
 * {@code START CODE END} — start and end in wall-clock seconds with microseconds
 * ({@code $EPOCHREALTIME}, a bash builtin: no process per timestamp), {@code CODE} the HTTP
 * status or {@code 000} when there was no answer. Each curl gives up after
 * {@link #CONNECT_TIMEOUT} to connect and {@link #REQUEST_TIMEOUT} in all, so a dead path costs at
 * most that; spawning curl costs a few milliseconds, which bounds the loop to a few hundred
 * requests a second.
 *
 * <p>Times are {@link EpochNanos}, the clock a test shares with this loop, so a test takes
 * {@code EpochNanos.now()} just before breaking something and asks {@link #outage(long)} how long
 * the client went without an answer. Bounded by {@code runFor} and by {@code maxRequests},
 * whichever comes first, and by {@link #close()}. Thread-safe.
 */
public final class ClientLoop implements AutoCloseable {

    public static final Duration CONNECT_TIMEOUT = Duration.ofMillis(200);
    public static final Duration REQUEST_TIMEOUT = Duration.ofMillis(500);

    /** One request: when it started and ended ({@link EpochNanos}), and the status (0: no answer). */
    public record Request(long startEpochNanos, long endEpochNanos, int status) {
        public boolean ok() {
            return status == 200;
        }
    }

    /**
     * The client's view of an interruption that began at {@code fromEpochNanos}: the failed
     * requests that ended after it, and the first request started after it that succeeded. The
     * client's service came back between the start of the last failure and the end of the first
     * success: {@link #atLeast()} and {@link #atMost()} bound the outage, within a request's length.
     */
    public record Outage(long fromEpochNanos, List<Request> failures, Request firstSuccess) {

        /** From the interruption to the end of the first answered request: the conservative figure. */
        public Duration atMost() {
            return Duration.ofNanos(firstSuccess.endEpochNanos() - fromEpochNanos);
        }

        /** From the interruption to the start of the last request that still failed (0 if none did). */
        public Duration atLeast() {
            return failures.isEmpty() ? Duration.ZERO
                    : Duration.ofNanos(Math.max(0, failures.getLast().startEpochNanos() - fromEpochNanos));
        }
    }

    private final String name;
    private final Process process;
    private final Path log;

    private ClientLoop(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts the loop in {@code client} against {@code url}, writing to
     * {@code target/it-logs/NAME.log}.
     */
    public static ClientLoop start(Netns client, String name, String url, Duration runFor, int maxRequests)
            throws IOException {
        if (!url.matches("[A-Za-z0-9:/._\\-\\[\\]]+")) {
            throw new IllegalArgumentException("not a plain URL: " + url); // it goes into a shell script
        }
        String script = """
                end=$(( ${EPOCHREALTIME/./} + %d ))
                n=0
                while (( n < %d && ${EPOCHREALTIME/./} < end )); do
                  printf '%%s ' "$EPOCHREALTIME"
                  curl -s -o /dev/null -w '%%{http_code} ' --connect-timeout %s -m %s '%s'
                  echo "$EPOCHREALTIME"
                  n=$(( n + 1 ))
                done
                """.formatted(runFor.toNanos() / 1000, maxRequests, seconds(CONNECT_TIMEOUT),
                seconds(REQUEST_TIMEOUT), url);
        // C locale: $EPOCHREALTIME with a '.' whatever the machine's locale
        Process process = client.start(name, List.of("env", "LC_ALL=C", "bash", "-c", script));
        return new ClientLoop(name, process, ItLogs.file(name));
    }

    private static String seconds(Duration d) {
        return Double.toString(d.toMillis() / 1000.0);
    }

    /** Every finished request so far, in order. */
    public List<Request> requests() {
        String text;
        try {
            text = Files.readString(log);
        } catch (IOException e) {
            return List.of();
        }
        List<Request> requests = new ArrayList<>();
        int lineStart = 0;
        for (int nl = text.indexOf('\n'); nl >= 0; lineStart = nl + 1, nl = text.indexOf('\n', lineStart)) {
            String[] parts = text.substring(lineStart, nl).strip().split(" ");
            if (parts.length == 3) {
                requests.add(new Request(EpochNanos.parse(parts[0]), EpochNanos.parse(parts[2]),
                        Integer.parseInt(parts[1])));
            }
        }
        return requests;
    }

    /** Requests started at or after {@code fromEpochNanos} and before {@code toEpochNanos}. */
    public List<Request> between(long fromEpochNanos, long toEpochNanos) {
        return requests().stream()
                .filter(r -> r.startEpochNanos() >= fromEpochNanos && r.startEpochNanos() < toEpochNanos)
                .toList();
    }

    /** Failed requests of {@link #between}. */
    public List<Request> failedBetween(long fromEpochNanos, long toEpochNanos) {
        return between(fromEpochNanos, toEpochNanos).stream().filter(r -> !r.ok()).toList();
    }

    /** Requests so far that did not get a 200. */
    public long failed() {
        return requests().stream().filter(r -> !r.ok()).count();
    }

    /** Requests finished so far. */
    public int total() {
        return requests().size();
    }

    /**
     * Waits for a request started at or after {@code fromEpochNanos} that got a 200; fails early if
     * the loop ended.
     */
    public Request awaitSuccessAfter(long fromEpochNanos, Duration bound) {
        return await(name + ": a 200 after " + fromEpochNanos).atMost(bound).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    for (Request r : requests()) {
                        if (r.ok() && r.startEpochNanos() >= fromEpochNanos) {
                            return r;
                        }
                    }
                    if (!process.isAlive()) {
                        throw new IllegalStateException(name + " ended (bounds reached?) after "
                                + total() + " requests");
                    }
                    return null;
                }, r -> r != null);
    }

    /** Waits until {@code count} requests started at or after {@code fromEpochNanos} got a 200. */
    public void awaitSuccesses(long fromEpochNanos, int count, Duration bound) {
        await(name + ": " + count + " answers").atMost(bound).pollInterval(Duration.ofMillis(20))
                .until(() -> between(fromEpochNanos, Long.MAX_VALUE).stream().filter(Request::ok).count() >= count);
    }

    /**
     * The outage that began at {@code fromEpochNanos}, as the client saw it: the failed requests
     * that ended after it (a request in flight at that instant counts) up to the first request
     * started after it that got a 200. Throws when there is no such request yet (see
     * {@link #awaitSuccessAfter}).
     */
    public Outage outage(long fromEpochNanos) {
        List<Request> failures = new ArrayList<>();
        for (Request r : requests()) {
            if (r.endEpochNanos() < fromEpochNanos) {
                continue;
            }
            if (r.ok() && r.startEpochNanos() >= fromEpochNanos) {
                return new Outage(fromEpochNanos, List.copyOf(failures), r);
            }
            if (!r.ok()) {
                failures.add(r);
            }
        }
        throw new IllegalStateException(name + ": no answer since " + fromEpochNanos + ", "
                + failures.size() + " failed requests");
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** Stops the loop (SIGTERM to bash, then its curl) by PID. */
    @Override
    public void close() throws InterruptedException {
        Processes.stop(process, Duration.ofSeconds(2));
    }
}
