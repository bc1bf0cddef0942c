package dev.fulcrum.server.log;

import org.slf4j.Logger;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Tells Fulcrum's own log that the access log cannot be written, without flooding it: one ERROR
 * line when writing starts failing, then at most one WARN line a minute with the lines dropped
 * meanwhile, and one INFO line when it works again. Also paces the retries: at most one open a
 * second while failing (a reopen signal retries at once). Confined to the writer thread.
 */
final class WriteTrouble {

    static final long REPORT_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    static final long RETRY_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Logger log;
    private final LongSupplier nanoTime;
    private boolean failing;
    private long lastReport;
    private long lastAttempt;
    private long droppedSinceReport;
    private long droppedWhileFailing;

    WriteTrouble(Logger log, LongSupplier nanoTime) {
        this.log = log;
        this.nanoTime = nanoTime;
    }

    /** Opening or writing {@code where} failed. */
    void failed(String where, IOException e) {
        long now = nanoTime.getAsLong();
        lastAttempt = now;
        if (!failing) {
            failing = true;
            lastReport = now;
            droppedSinceReport = 0;
            droppedWhileFailing = 0;
            log.error("access log: cannot write {}: {}; its lines are dropped and counted "
                    + "(fulcrum_access_log_dropped_total) until it works again, retried every second and at SIGUSR1",
                    where, reason(e));
            return;
        }
        if (now - lastReport >= REPORT_EVERY_NANOS) {
            log.warn("access log: still cannot write {}: {}; {} lines dropped since the last report", where,
                    reason(e), droppedSinceReport);
            lastReport = now;
            droppedSinceReport = 0;
        }
    }

    /** {@code lines} were not written while failing. */
    void dropped(long lines) {
        droppedSinceReport += lines;
        droppedWhileFailing += lines;
    }

    /** A batch reached {@code where}: a failure, if any, is over. */
    void wrote(String where) {
        if (failing) {
            failing = false;
            log.info("access log: writing to {} again; {} lines were dropped meanwhile", where, droppedWhileFailing);
        }
    }

    boolean failing() {
        return failing;
    }

    /** True when a retry of a failed open is due. */
    boolean retryDue() {
        return nanoTime.getAsLong() - lastAttempt >= RETRY_EVERY_NANOS;
    }

    /** The one-line reason of an I/O failure, as an operator reads it. */
    static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException _ -> "no such file or directory";
            case AccessDeniedException _ -> "permission denied";
            case NotDirectoryException _ -> "not a directory";
            case FileSystemException fs when fs.getReason() != null -> fs.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }
}
