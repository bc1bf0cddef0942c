package dev.fulcrum.server.demo;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The demo server's modelled CPUs: {@code cpus} worker threads that burn real CPU on request
 * ({@code GET /work?ms=N}), a bounded queue in front of them, and the {@link BusyWindow} that
 * turns their busy time into {@code process_cpu_usage}.
 *
 * <p>A burn is a busy loop on {@link System#nanoTime()} for the requested wall-clock time: it
 * really occupies a core (so a load test on the demo shows real CPU on the machine), and its busy
 * time is what the window records. When every worker is busy, requests wait in the queue; when the
 * queue is full, {@link #submit} refuses at once (the server answers 503).
 *
 * <p>Thread-safe. The completion callback runs on the worker thread.
 */
final class CpuWorkers implements AutoCloseable {

    static final Duration WINDOW = Duration.ofSeconds(5);

    private final ThreadPoolExecutor executor;
    private final BusyWindow window;
    private final AtomicInteger busy = new AtomicInteger();

    CpuWorkers(int cpus, int queueCapacity) {
        AtomicInteger ids = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(cpus, cpus, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queueCapacity), r -> {
                    Thread t = new Thread(r, "demo-cpu-" + ids.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        this.window = new BusyWindow(WINDOW.toNanos(), cpus);
    }

    /**
     * Queues a burn of {@code millis} ms; {@code done} runs on the worker when it ends.
     *
     * @return false when the queue is full (nothing was queued)
     */
    boolean submit(long millis, Runnable done) {
        try {
            executor.execute(() -> {
                busy.incrementAndGet();
                BusyWindow.Burst burst = window.begin(System.nanoTime());
                try {
                    burn(millis);
                } finally {
                    window.end(burst, System.nanoTime());
                    busy.decrementAndGet();
                }
                done.run();
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Share of the last 5 s the workers spent working, 0..1. */
    double usage() {
        return window.usage(System.nanoTime());
    }

    /** Workers burning now. */
    int busy() {
        return busy.get();
    }

    /** Burns waiting for a worker. */
    int queued() {
        return executor.getQueue().size();
    }

    private static void burn(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        // Real work on every turn, so the loop is not a sleep in disguise and is not optimised away.
        long x = 0;
        while (System.nanoTime() < end) {
            x += x * 31 + 7;
        }
        if (x == 42) {
            Thread.onSpinWait();
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
