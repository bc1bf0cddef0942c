package dev.fulcrum.server.control;

import java.time.Duration;
import java.time.Instant;
import java.util.PriorityQueue;

/**
 * A {@link Scheduler} in simulated time, for tests: time moves only with {@link #advance}, and
 * tasks run on the caller's thread, in due order (submission order for equal due times), with
 * {@link #now()} at each task's due time while it runs. The test's thread is the control thread,
 * so {@link ControlPlane#call} runs commands inline. Not thread-safe: one test thread drives it.
 */
public final class ManualScheduler implements Scheduler {

    private record Task(Instant due, long seq, Runnable body, boolean[] cancelled) {
    }

    private final PriorityQueue<Task> queue = new PriorityQueue<>((a, b) -> {
        int c = a.due().compareTo(b.due());
        return c != 0 ? c : Long.compare(a.seq(), b.seq());
    });
    private Instant now;
    private long seq;
    private boolean closed;

    public ManualScheduler(Instant start) {
        this.now = start;
    }

    public ManualScheduler() {
        this(Instant.parse("2026-11-24T03:00:00Z"));
    }

    /** A control plane on a new manual scheduler. */
    public static ControlPlane controlPlane() {
        return new ControlPlane(new ManualScheduler());
    }

    /** The manual scheduler under a control plane made by {@link #controlPlane()}. */
    public static ManualScheduler of(ControlPlane control) {
        return (ManualScheduler) control.scheduler();
    }

    @Override
    public void execute(Runnable task) {
        schedule(Duration.ZERO, task);
    }

    @Override
    public Scheduled schedule(Duration delay, Runnable task) {
        boolean[] cancelled = new boolean[1];
        if (!closed) {
            queue.add(new Task(now.plus(delay.isNegative() ? Duration.ZERO : delay), seq++, task, cancelled));
        }
        return () -> cancelled[0] = true;
    }

    @Override
    public Instant now() {
        return now;
    }

    @Override
    public boolean inControlThread() {
        return true;
    }

    @Override
    public void close() {
        closed = true;
        queue.clear();
    }

    /** Runs every task due now (and those they submit for now). */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** Moves time forward by {@code d}, running every task that falls due on the way, in order. */
    public void advance(Duration d) {
        Instant target = now.plus(d);
        while (!queue.isEmpty() && !queue.peek().due().isAfter(target)) {
            Task t = queue.poll();
            if (t.due().isAfter(now)) {
                now = t.due();
            }
            if (!t.cancelled()[0]) {
                t.body().run();
            }
        }
        now = target;
    }

    /** Tasks waiting, cancelled ones included. */
    public int pending() {
        return queue.size();
    }
}
