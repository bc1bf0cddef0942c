package dev.fulcrum.server.log;

import dev.fulcrum.server.config.AccessLogConfig;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log (config {@code access-log}): one line per HTTP request and per TCP connection,
 * written off the event loops. An event loop hands a finished request's {@link AccessEntry} to
 * {@link #log}, which only puts it in a bounded queue; one writer thread ({@link AccessLogWriter})
 * formats and writes the lines in batches. When the queue is full the entry is dropped and counted
 * ({@link #dropped()}): traffic never waits for the disk.
 *
 * <p>The data path asks {@link #enabled()} (one volatile read) before it builds an entry, so with
 * no access log configured a request makes no entry and reads no clock for it.
 *
 * <p>{@link #configure} (a reload) and {@link #reopen} (SIGUSR1, after logrotate renamed the file)
 * take effect on the writer thread between two batches: no entry is lost across them. {@link
 * #close} writes what is queued, for a bounded time.
 *
 * <p>Thread-safe: {@link #log} from any event loop, the rest from any thread.
 */
public final class AccessLog {

    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);

    /**
     * Entries the queue holds; about 200 bytes each with their strings, so at most a few MiB. At
     * 100,000 requests a second it is a third of a second of lines: more than the writer's sleep
     * ({@link AccessLogWriter#IDLE_NANOS}) with room for a slow disk's hiccup.
     */
    static final int CAPACITY = 32_768;

    /**
     * Lock-free for the many producers (event loops) and the one consumer (the writer): Netty's
     * fixed-size MPSC array queue (JCTools), the kind its event loops take their own tasks from.
     * An offer is one CAS and no allocation; a full queue refuses at once.
     */
    private final Queue<AccessEntry> queue;
    private final LongAdder written = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final AtomicBoolean reopen = new AtomicBoolean();
    /** What the writer is to write to; null = off. */
    private volatile AccessLogConfig settings;
    private volatile boolean closing;
    /** Started with the first settings; guarded by {@code this}. */
    private Thread writer;

    AccessLog(int capacity) {
        this.queue = PlatformDependent.newFixedMpscQueue(capacity);
    }

    /**
     * Never writes: for listeners built without an instance (tests). Its queue is tiny and it
     * cannot be {@link #configure}d: an instance's log comes from {@link #start}, even when off.
     */
    public static final AccessLog OFF = new AccessLog(2);

    /** An access log writing as {@code config} says, or off when it is null (a reload may turn it on). */
    public static AccessLog start(AccessLogConfig config) {
        AccessLog accessLog = new AccessLog(CAPACITY);
        accessLog.configure(config);
        return accessLog;
    }

    /** True when a line should be made: build an {@link AccessEntry} only then. */
    public boolean enabled() {
        return settings != null;
    }

    /** Queues {@code entry} for writing; drops and counts it when the queue is full. Never blocks. */
    public void log(AccessEntry entry) {
        if (!queue.offer(entry)) {
            dropped.increment();
        }
    }

    /**
     * Writes to {@code config}'s path in its format from the next batch on (null: no more lines);
     * what is queued goes there too. Unchanged settings change nothing.
     */
    public synchronized void configure(AccessLogConfig config) {
        if (this == OFF && config != null) {
            throw new IllegalStateException("AccessLog.OFF cannot be configured; make one with AccessLog.start");
        }
        if (closing || Objects.equals(config, settings)) {
            return;
        }
        settings = config;
        if (config != null && writer == null) {
            writer = Thread.ofPlatform().name("fulcrum-access-log").daemon().unstarted(new AccessLogWriter(this));
            writer.start();
        }
        wake();
    }

    /** Closes and reopens the file between two batches (SIGUSR1): after a rename, lines go to a new file. */
    public void reopen() {
        reopen.set(true);
        wake();
    }

    /**
     * Stops taking lines and writes the queued ones, waiting at most {@code bound} for the writer;
     * what it could not write by then is lost (said in the log). Idempotent.
     */
    public void close(Duration bound) {
        Thread w;
        synchronized (this) {
            closing = true;
            w = writer;
        }
        if (w == null) {
            settings = null;
            return;
        }
        LockSupport.unpark(w);
        try {
            w.join(bound);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        settings = null; // after the writer finished: entries made from now on are not even built
        if (w.isAlive()) {
            log.warn("access log: lines still queued after {} ms at stop are lost", bound.toMillis());
        }
    }

    /** Lines written so far ({@code fulcrum_access_log_lines_total}). */
    public long linesWritten() {
        return written.sum();
    }

    /** Lines dropped so far: queue full, or not writable ({@code fulcrum_access_log_dropped_total}). */
    public long dropped() {
        return dropped.sum();
    }

    // ---- the writer's side ---------------------------------------------------------------------

    AccessLogConfig settings() {
        return settings;
    }

    boolean takeReopen() {
        return reopen.getAndSet(false);
    }

    boolean closing() {
        return closing;
    }

    AccessEntry poll() {
        return queue.poll();
    }

    void wrote(long lines) {
        written.add(lines);
    }

    void lost(long lines) {
        dropped.add(lines);
    }

    /** The writer waits for entries, at most {@code nanos}; {@link #configure}, {@link #reopen} and {@link #close} wake it. */
    void idle(long nanos) {
        if (!closing && !reopen.get()) {
            LockSupport.parkNanos(this, nanos);
        }
    }

    private void wake() {
        Thread w;
        synchronized (this) {
            w = writer;
        }
        if (w != null) {
            LockSupport.unpark(w);
        }
    }
}
