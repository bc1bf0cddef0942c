package dev.fulcrum.server.cli;

import sun.misc.Signal;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGTERM/SIGINT, SIGHUP and SIGUSR1 handling for the long-running commands ({@code run},
 * {@code demo}, {@code demo-server}; SIGUSR1, the access log's reopen, for {@code run}).
 *
 * <p>Why signal handlers and not a shutdown hook: a shutdown hook runs while the JVM is already
 * exiting with status 143 (SIGTERM) or 130 (SIGINT), and it cannot tell a first signal from a
 * second. The spec wants exit 0 after a graceful stop and an immediate exit on the second signal,
 * so the first SIGTERM or SIGINT runs the stop action on its own thread while the command's main
 * thread waits for it and then returns 0; the second one halts the JVM at once with
 * {@code 128 + signal number}, the shell's convention for "killed by a signal".
 *
 * <p>A process started with a signal ignored (SIGINT for a background job of a non-interactive
 * shell) keeps ignoring it, as POSIX programs do; SIGTERM always works.
 *
 * <p>Uses {@code sun.misc.Signal} (module jdk.unsupported), the only JDK way to catch signals.
 * Thread-safe; install once per process.
 */
final class StopSignals {

    private StopSignals() {
    }

    /** Runs {@code stop} once, on a new thread, at the first SIGTERM or SIGINT. */
    static void onStop(Runnable stop) {
        AtomicBoolean stopping = new AtomicBoolean();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> {
                if (stopping.compareAndSet(false, true)) {
                    Thread thread = new Thread(stop, "fulcrum-stop");
                    thread.start();
                } else {
                    System.err.println("fulcrum: second SIG" + signal.getName() + ", exiting now");
                    Runtime.getRuntime().halt(128 + signal.getNumber());
                }
            });
        }
    }

    /**
     * Runs {@code reopen} at every SIGUSR1 (logrotate's "rename, then signal"). It must return at
     * once: the access log reopens on its own writer thread.
     */
    static void onReopen(Runnable reopen) {
        Signal.handle(new Signal("USR1"), signal -> reopen.run());
    }

    /** Runs {@code reload} at every SIGHUP, one at a time. */
    static void onHangup(Runnable reload) {
        Signal.handle(new Signal("HUP"), signal -> {
            synchronized (StopSignals.class) {
                reload.run();
            }
        });
    }
}
