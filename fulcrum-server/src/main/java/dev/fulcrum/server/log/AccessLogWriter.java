package dev.fulcrum.server.log;

import dev.fulcrum.server.config.AccessLogConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The access log's writer thread: drains the queue in batches, formats each entry, writes the
 * batch's lines with one system call, and between batches applies what changed — a reload's new
 * path or format, a SIGUSR1 reopen, a retry after a failure — so no entry is lost across a
 * reopen: entries taken before it go to the old file, the ones after to the new.
 *
 * <p>A failing target (full disk, a path that vanished) drops the lines and counts them
 * ({@link AccessLog#dropped()}); {@link WriteTrouble} says so in Fulcrum's log once, and the
 * target is reopened at most once a second (at once on SIGUSR1). The event loops never wait for
 * any of this. Runs on its own thread until {@link AccessLog#close} and the queue is empty.
 */
final class AccessLogWriter implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);

    /** Entries per batch: bounds a batch's buffer and how long a reopen waits. */
    static final int BATCH = 1024;
    /** Lines are written out once this many bytes are buffered, and at each batch's end. */
    static final int WRITE_AT_BYTES = 64 * 1024;
    /** How long the thread sleeps when the queue is empty: lines reach the file at most this late. */
    static final long IDLE_NANOS = 50_000_000;

    private final AccessLog queue;
    private final LineBuffer lines = new LineBuffer(WRITE_AT_BYTES + 4096);
    private final WriteTrouble trouble = new WriteTrouble(log, System::nanoTime);
    /** The settings {@link #target} and {@link #format} are for; null: off. */
    private AccessLogConfig applied;
    private LineFormat format;
    /** Null while off, or after a failure until the retry opens it again. */
    private LogTarget target;
    private int bufferedLines;

    AccessLogWriter(AccessLog queue) {
        this.queue = queue;
    }

    @Override
    public void run() {
        try {
            while (true) {
                applyChanges();
                int taken = batch();
                if (taken == 0) {
                    if (queue.closing()) {
                        break;
                    }
                    queue.idle(IDLE_NANOS);
                }
            }
        } finally {
            closeTarget();
        }
    }

    /** Between batches: a new path or format, a reopen asked for, or a retry that is due. */
    private void applyChanges() {
        AccessLogConfig wanted = queue.settings();
        boolean reopen = queue.takeReopen();
        if (wanted != applied) {
            closeTarget();
            applied = wanted;
            format = wanted == null ? null : LineFormat.of(wanted.format());
            if (wanted != null) {
                open();
                log.info("access log: {} lines to {}", wanted.format().name().toLowerCase(java.util.Locale.ROOT),
                        wanted.where());
            } else {
                log.info("access log: off");
            }
        } else if (applied != null && (reopen || target == null && trouble.retryDue())) {
            closeTarget();
            open();
            if (reopen && target != null) {
                log.info("access log: reopened {}", applied.where());
            }
        }
    }

    /** Takes up to {@link #BATCH} entries and writes their lines; returns how many it took. */
    private int batch() {
        int taken = 0;
        for (AccessEntry e; taken < BATCH && (e = queue.poll()) != null; taken++) {
            if (target == null) {
                drop(1); // off, or failing: formatting would be wasted
                continue;
            }
            format.append(e, lines);
            bufferedLines++;
            if (lines.size() >= WRITE_AT_BYTES) {
                writeOut();
            }
        }
        writeOut();
        return taken;
    }

    private void writeOut() {
        if (bufferedLines == 0) {
            return;
        }
        int n = bufferedLines;
        bufferedLines = 0;
        try {
            target.write(lines.array(), lines.size());
            queue.wrote(n);
            trouble.wrote(applied.where());
        } catch (IOException e) {
            trouble.failed(applied.where(), e);
            drop(n);
            closeTarget();
        } finally {
            lines.clear();
        }
    }

    private void drop(long n) {
        queue.lost(n);
        if (trouble.failing()) {
            trouble.dropped(n);
        }
    }

    private void open() {
        try {
            target = LogTarget.open(applied);
        } catch (IOException e) {
            trouble.failed(applied.where(), e);
        }
    }

    private void closeTarget() {
        LogTarget t = target;
        target = null;
        if (t != null) {
            try {
                t.close();
            } catch (IOException e) {
                log.warn("access log: closing {}: {}", applied == null ? "the file" : applied.where(),
                        WriteTrouble.reason(e));
            }
        }
    }
}
