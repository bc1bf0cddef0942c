package dev.fulcrum.server.demo;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * The share of a sliding window (5 s for the demo server) that a fixed number of workers spent
 * working: {@code busy time inside [now - window, now] / (window * workers)}, in 0..1. This is the
 * demo server's {@code process_cpu_usage}: what a server with that many CPUs would report, so a
 * pool can be driven past an auto-scaling threshold on one small machine.
 *
 * <p>Bursts are recorded by their start and end ({@link #begin}, {@link #end}); a burst still
 * running counts up to {@code now}. Time comes in as an argument (nanoseconds on one monotonic
 * clock, {@link System#nanoTime()} in production), so tests are exact. Finished bursts older than
 * the window are dropped on every call, so memory stays bounded by the bursts of one window.
 *
 * <p>Thread-safe: every method is synchronized (called a few times per burst, never per byte).
 */
final class BusyWindow {

    private final long windowNanos;
    private final int workers;
    /** Finished bursts as {start, end}, in order of their end. */
    private final ArrayDeque<long[]> finished = new ArrayDeque<>();
    private final Set<Burst> running = new HashSet<>();

    /** A burst in progress; identity matters, not the value. */
    static final class Burst {
        private final long start;

        private Burst(long start) {
            this.start = start;
        }
    }

    BusyWindow(long windowNanos, int workers) {
        if (windowNanos <= 0 || workers < 1) {
            throw new IllegalArgumentException("window and workers must be positive");
        }
        this.windowNanos = windowNanos;
        this.workers = workers;
    }

    synchronized Burst begin(long now) {
        Burst burst = new Burst(now);
        running.add(burst);
        return burst;
    }

    synchronized void end(Burst burst, long now) {
        if (running.remove(burst)) {
            finished.addLast(new long[] {burst.start, now});
            trim(now);
        }
    }

    /** Busy share of {@code [now - window, now]} over all workers, 0..1. */
    synchronized double usage(long now) {
        trim(now);
        long from = now - windowNanos;
        long busy = 0;
        for (long[] b : finished) {
            busy += Math.max(0, Math.min(b[1], now) - Math.max(b[0], from));
        }
        for (Burst b : running) {
            busy += Math.max(0, now - Math.max(b.start, from));
        }
        return Math.min(1.0, busy / ((double) windowNanos * workers));
    }

    private void trim(long now) {
        long from = now - windowNanos;
        while (!finished.isEmpty() && finished.peekFirst()[1] <= from) {
            finished.removeFirst();
        }
    }
}
