package dev.fulcrum.server.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Ends processes a test started, by PID and never by name: {@link #stop} asks (SIGTERM) and then
 * insists (SIGKILL), {@link #kill} crashes at once. Both also end the process's descendants, which
 * are the test's too (keepalived's VRRP child, the curl of a shell loop); they are listed
 * <em>before</em> the parent goes, because an orphan is re-parented and no longer shows as a
 * descendant. Stateless; thread-safe.
 */
public final class Processes {

    private static final Duration KILL_BOUND = Duration.ofSeconds(10);

    private Processes() {
    }

    /**
     * SIGTERM to {@code process}; SIGKILL to it after {@code grace}; then SIGKILL to any descendant
     * still alive.
     *
     * @return whether the process exited within {@code grace} on SIGTERM
     */
    public static boolean stop(Process process, Duration grace) throws InterruptedException {
        if (!process.isAlive()) {
            return true;
        }
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        boolean exited = process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
        if (!exited) {
            process.destroyForcibly();
            process.waitFor(KILL_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        }
        killAll(descendants);
        return exited;
    }

    /**
     * SIGKILL, as a crash would, to all {@code processes} and their descendants at once: every
     * signal is sent before any exit is awaited, the descendants first (the last-born first) so that
     * no child sees its parent die and runs a graceful exit of its own (keepalived's VRRP child
     * would). Waits for all of them.
     */
    public static void kill(Process... processes) throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : processes) {
            all.addAll(p.descendants().toList().reversed());
        }
        for (Process p : processes) {
            all.add(p.toHandle());
        }
        killAll(all);
    }

    private static void killAll(List<ProcessHandle> handles) throws InterruptedException {
        for (ProcessHandle h : handles) {
            h.destroyForcibly();
        }
        // poll: ProcessHandle.onExit() of a process that is not our child sleeps 300 ms and more
        long deadline = System.nanoTime() + KILL_BOUND.toNanos();
        for (ProcessHandle h : handles) {
            while (h.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
        }
    }
}
