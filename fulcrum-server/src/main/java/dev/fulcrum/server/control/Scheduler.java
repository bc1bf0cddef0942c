package dev.fulcrum.server.control;

import java.time.Duration;
import java.time.Instant;

/**
 * The one thread that changes control state, as its users see it: run a task, run a task after a
 * delay, tell the time. {@link ControlThread} is the production one (a real thread and the wall
 * clock); tests drive a manual one whose time moves only when the test says so, and whose tasks
 * run on the test's thread in due order.
 *
 * <p>Contract: tasks run one at a time, in submission order for equal due times, never
 * concurrently; a task that throws is logged and does not stop later tasks. {@link #now()} is the
 * time the delays are measured in. All methods may be called from any thread.
 */
public interface Scheduler {

    /** Runs {@code task} on the control thread, after the tasks already due. */
    void execute(Runnable task);

    /** Runs {@code task} on the control thread once {@code delay} has passed. */
    Scheduled schedule(Duration delay, Runnable task);

    /** The current time of this scheduler's clock. */
    Instant now();

    /** Whether the caller is the control thread (so a command may run at once, inline). */
    boolean inControlThread();

    /** Stops running tasks; later submissions are dropped. */
    void close();

    /** A task scheduled for later. */
    interface Scheduled {
        /** Cancels the task if it has not started; a no-op afterwards. */
        void cancel();
    }
}
