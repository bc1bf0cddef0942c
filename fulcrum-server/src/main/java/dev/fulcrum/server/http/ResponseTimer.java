package dev.fulcrum.server.http;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The {@code response-timeout} of the requests of one client connection: fires when the server made
 * no progress for that long before the response head started. Progress is the request head or a
 * body part flushed to the server ({@link #progress()}); time spent waiting for the client's next
 * body part does not count against the server ({@link ProxyExchange#wantsBody()}).
 *
 * <p>One per connection, bound to each request in turn ({@link #bind}), and lazy: arming and
 * stopping only write fields; the one scheduled task checks them when it fires and re-schedules
 * itself for what is left, or ends when nothing is armed. On a busy keep-alive connection that is
 * one schedule per timeout period rather than a schedule and a cancel per request.
 *
 * <p>Confined to the connection's event loop.
 */
final class ResponseTimer {

    private final EventLoop loop;
    private ProxyExchange exchange;
    private long windowNanos;
    private boolean armed;
    private long lastProgressNanos;
    private ScheduledFuture<?> task;
    /** When {@link #task} fires (the loop's {@link io.netty.util.concurrent.Ticker}: simulated in tests). */
    private long taskAtNanos;

    ResponseTimer(EventLoop loop) {
        this.loop = loop;
    }

    /** The timer now times {@code exchange}'s tries, {@code windowNanos} at a time (0 = never). */
    void bind(ProxyExchange exchange, long windowNanos) {
        this.exchange = exchange;
        this.windowNanos = windowNanos;
        this.armed = false;
    }

    /** The server took something: the wait for its answer starts again. */
    void progress() {
        if (windowNanos <= 0) {
            return;
        }
        long now = loop.ticker().nanoTime();
        lastProgressNanos = now;
        armed = true;
        long due = now + windowNanos;
        if (task == null) {
            schedule(due, windowNanos);
        } else if (taskAtNanos - due > 0) { // a shorter window than the task was set for
            task.cancel(false);
            schedule(due, windowNanos);
        }
    }

    /** The response started, the try failed or the request ended: nothing to time until the next progress. */
    void stop() {
        armed = false;
    }

    /** The connection is gone: drop the task too. */
    void close() {
        armed = false;
        exchange = null;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void schedule(long atNanos, long delayNanos) {
        taskAtNanos = atNanos;
        task = loop.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        task = null;
        if (!armed) {
            return; // the next progress() schedules again
        }
        long now = loop.ticker().nanoTime();
        if (exchange.wantsBody()) {
            lastProgressNanos = now; // the client is slow, not the server (the body timeout's business)
        }
        long waited = now - lastProgressNanos;
        if (waited < windowNanos) {
            schedule(now + windowNanos - waited, windowNanos - waited);
        } else {
            armed = false;
            exchange.responseTimedOut();
        }
    }
}
