package dev.fulcrum.server.control;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The production {@link Scheduler}: one daemon platform thread, {@code fulcrum-control}, and the
 * given wall clock. Submissions after {@link #close()} are dropped (logged at debug): shutting
 * down, nothing is left to change.
 */
public final class ControlThread implements Scheduler {

    private static final Logger log = LoggerFactory.getLogger(ControlThread.class);

    private final Clock clock;
    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread thread;

    public ControlThread(Clock clock) {
        this.clock = clock;
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "fulcrum-control");
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.prestartCoreThread();
    }

    @Override
    public void execute(Runnable task) {
        try {
            executor.execute(() -> run(task));
        } catch (RejectedExecutionException closed) {
            log.debug("control thread closed; task dropped");
        }
    }

    @Override
    public Scheduled schedule(Duration delay, Runnable task) {
        try {
            var future = executor.schedule(() -> run(task), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
            return () -> future.cancel(false);
        } catch (RejectedExecutionException closed) {
            log.debug("control thread closed; scheduled task dropped");
            return () -> { };
        }
    }

    @Override
    public Instant now() {
        return clock.instant();
    }

    @Override
    public boolean inControlThread() {
        return Thread.currentThread() == thread;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            // one failing command must not end the thread every change of state goes through
            log.warn("control task failed", e);
        }
    }
}
