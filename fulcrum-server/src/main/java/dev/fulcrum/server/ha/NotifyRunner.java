package dev.fulcrum.server.ha;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
    /** How much of a notify program's output is logged. */
    private static final int OUTPUT_BYTES = 2000;
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
            // Read while it runs: a program that writes more than the pipe holds (64 KiB) would
            // otherwise block on its write until killed. The first bytes are kept for the log,
            // the rest is read and dropped, so a chatty program costs no memory.
            CompletableFuture<String> output = new CompletableFuture<>();
            Thread.ofVirtual().name("fulcrum-ha-notify-output").start(() -> output.complete(head(p.getInputStream())));
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                log.warn("ha notify `{} {}` did not finish within {} s; killed", command, state, TIMEOUT_SECONDS);
                return;
            }
            String text = "";
            try {
                text = output.get(1, TimeUnit.SECONDS); // a child it left running may hold the pipe open
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // logged without its output
            }
            if (p.exitValue() == 0) {
                log.info("ha notify `{} {}` exited 0{}", command, state, text.isEmpty() ? "" : ": " + text);
            } else {
                log.warn("ha notify `{} {}` exited {}{}", command, state, p.exitValue(),
                        text.isEmpty() ? "" : ": " + text);
            }
        } catch (IOException e) {
            log.warn("ha notify `{} {}` could not run: {}", command, state, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The first {@link #OUTPUT_BYTES} of {@code in}, stripped; reads (and drops) the rest until its end. */
    private static String head(InputStream in) {
        try (in) {
            String head = new String(in.readNBytes(OUTPUT_BYTES), StandardCharsets.UTF_8).strip();
            in.transferTo(OutputStream.nullOutputStream());
            return head;
        } catch (IOException e) {
            return "";
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
