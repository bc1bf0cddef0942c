package dev.fulcrum.server.control;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The single writer of control state (STYLE principle 13): every change of pools and servers —
 * config load and reload, admin API calls, health check results, outlier ejections, slow-start
 * steps, drains finishing, auto-scaling, DSR MAC learning — is a command run on one
 * {@link Scheduler}. Data-plane threads never change pool state; they read the snapshot the last
 * command published.
 *
 * <p>Three ways to send a command: {@link #execute} (fire and forget: request threads, probe
 * results), {@link #submit} (a future with the answer: the admin API completes its HTTP response
 * from it, never blocking an event loop), {@link #call} (wait for the answer, at most
 * {@link #CALL_BOUND}: threads that may block, such as a reload's or a provisioner's; on the
 * control thread itself it runs inline).
 *
 * <p>Thread-safe.
 */
public final class ControlPlane implements AutoCloseable {

    /** How long {@link #call} waits for the control thread before it gives up. */
    public static final Duration CALL_BOUND = Duration.ofSeconds(10);

    private final Scheduler scheduler;
    private final Clock clock;

    public ControlPlane(Scheduler scheduler) {
        this.scheduler = scheduler;
        this.clock = new SchedulerClock(scheduler);
    }

    /** A control plane on its own {@code fulcrum-control} thread and the given clock. */
    public static ControlPlane onThread(Clock clock) {
        return new ControlPlane(new ControlThread(clock));
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /** Runs {@code command} on the control thread, later. */
    public void execute(Runnable command) {
        scheduler.execute(command);
    }

    /** Runs {@code task} on the control thread after {@code delay}. */
    public Scheduler.Scheduled schedule(Duration delay, Runnable task) {
        return scheduler.schedule(delay, task);
    }

    /** Runs {@code command} on the control thread; the future completes there with its answer or exception. */
    public <T> CompletableFuture<T> submit(Callable<T> command) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        scheduler.execute(() -> {
            try {
                answer.complete(command.call());
            } catch (Exception | Error e) {
                answer.completeExceptionally(e);
            }
        });
        return answer;
    }

    /**
     * Runs {@code command} on the control thread and returns its answer: inline when called there,
     * else waiting at most {@link #CALL_BOUND}. Never call it from a Netty event loop (use
     * {@link #submit}). A runtime exception of the command is rethrown as it is.
     *
     * @throws IllegalStateException when the control thread did not answer in time
     */
    public <T> T call(Callable<T> command) {
        if (scheduler.inControlThread()) {
            return callInline(command);
        }
        CompletableFuture<T> answer = submit(command);
        try {
            return answer.get(CALL_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the control thread did not answer within " + CALL_BOUND.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the control thread");
        }
    }

    /** {@link #call} for a command without an answer. */
    public void run(Runnable command) {
        call(() -> {
            command.run();
            return null;
        });
    }

    /** The control thread's time. */
    public Instant now() {
        return scheduler.now();
    }

    /** {@link #now()} as a {@link Clock}, for code that takes one. */
    public Clock clock() {
        return clock;
    }

    /** Whether the caller is the control thread. */
    public boolean inControlThread() {
        return scheduler.inControlThread();
    }

    /** Throws unless called on the control thread: guards methods that only commands may call. */
    public void checkInControlThread() {
        if (!scheduler.inControlThread()) {
            throw new IllegalStateException("not on the control thread: " + Thread.currentThread().getName());
        }
    }

    @Override
    public void close() {
        scheduler.close();
    }

    private static <T> T callInline(Callable<T> command) {
        try {
            return command.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The scheduler's time as a {@link Clock} (UTC). */
    private static final class SchedulerClock extends Clock {
        private final Scheduler scheduler;

        SchedulerClock(Scheduler scheduler) {
            this.scheduler = scheduler;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return scheduler.now();
        }
    }
}
