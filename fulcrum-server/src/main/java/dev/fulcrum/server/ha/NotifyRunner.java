package dev.fulcrum.server.ha;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code ha.notify} with the new state ({@code MASTER}, {@code BACKUP} or {@code FAULT}) as
 * its last argument: {@code sh -c 'NOTIFY "$@"' notify STATE}, so the setting may carry its own
 * arguments. One at a time, in order, on its own thread (never the speaker's), each bounded by
 * {@link #TIMEOUT_SECONDS}; the exit status and output are logged.
 */
final class NotifyRunner implements AutoCloseable {

    static final int TIMEOUT_SECONDS = 30;
    private static final Logger log = LoggerFactory.getLogger(NotifyRunner.class);

    private final String command;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("fulcrum-ha-notify").daemon(true).factory());

    NotifyRunner(String command) {
        this.command = command;
    }

    void run(String state) {
        if (command.isBlank()) {
            return;
        }
        executor.execute(() -> runNow(state));
    }

    private void runNow(String state) {
        List<String> argv = List.of("/bin/sh", "-c", command + " \"$@\"", "notify", state);
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                log.warn("ha notify `{} {}` did not finish within {} s; killed", command, state, TIMEOUT_SECONDS);
                return;
            }
            String output = new String(p.getInputStream().readNBytes(2000), StandardCharsets.UTF_8).strip();
            if (p.exitValue() == 0) {
                log.info("ha notify `{} {}` exited 0{}", command, state, output.isEmpty() ? "" : ": " + output);
            } else {
                log.warn("ha notify `{} {}` exited {}{}", command, state, p.exitValue(),
                        output.isEmpty() ? "" : ": " + output);
            }
        } catch (IOException e) {
            log.warn("ha notify `{} {}` could not run: {}", command, state, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Lets a notify already queued (the last transition's) finish, up to its timeout. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
