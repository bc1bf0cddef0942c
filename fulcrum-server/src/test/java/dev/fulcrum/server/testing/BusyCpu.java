package dev.fulcrum.server.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Busy loops that keep CPUs at 100% for a while, to see whether a timer-driven peer (a VRRP
 * speaker at 100 ms adverts) keeps time on a loaded machine. Each loop is one {@code bash} spinning
 * on a builtin (no process per turn) that ends by itself after {@code duration}, so it is bounded
 * even if the test dies; {@link #close()} ends it sooner, by PID. Thread-safe.
 */
public final class BusyCpu implements AutoCloseable {

    private final List<Process> loops;

    private BusyCpu(List<Process> loops) {
        this.loops = loops;
    }

    /** Starts {@code count} loops (one per CPU to load), each ending after {@code duration}, whole seconds. */
    public static BusyCpu start(int count, Duration duration) throws IOException {
        long seconds = Math.max(1, (duration.toMillis() + 999) / 1000);
        List<Process> loops = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                loops.add(new ProcessBuilder("bash", "-c",
                        "SECONDS=0; while (( SECONDS < " + seconds + " )); do :; done")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
        } catch (IOException e) {
            new BusyCpu(loops).stopAll();
            throw e;
        }
        return new BusyCpu(List.copyOf(loops));
    }

    /** Whether every loop is still spinning. */
    public boolean allRunning() {
        return loops.stream().allMatch(Process::isAlive);
    }

    /** Waits for the loops to end by themselves; false if one still runs after {@code bound}. */
    public boolean awaitEnd(Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        for (Process p : loops) {
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return true;
    }

    private void stopAll() {
        loops.forEach(Process::destroyForcibly);
    }

    /** Ends the loops still running (SIGKILL by PID: they hold no state) and waits for them. */
    @Override
    public void close() throws InterruptedException {
        Processes.kill(loops.toArray(Process[]::new));
    }
}
