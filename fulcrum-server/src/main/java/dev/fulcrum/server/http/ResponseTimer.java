package dev.fulcrum.server.http;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The {@code response-timeout} of one request: fires when the server made no progress for that
 * long before the response head started. Progress is the request head or a body part flushed to
 * the server ({@link #progress()}); time spent waiting for the client's next body part does not
 * count against the server ({@code waitingOnClient}). One scheduled task per request that re-arms
 * itself for the rest of the window, rather than one per body part.
 *
 * <p>Confined to the request's event loop.
 */
final class ResponseTimer {

    private final EventLoop loop;
    private final long windowNanos;
    private final BooleanSupplier waitingOnClient;
    private final Runnable onTimeout;
    private ScheduledFuture<?> task;
    private long lastProgressNanos;

    ResponseTimer(EventLoop loop, Duration timeout, BooleanSupplier waitingOnClient, Runnable onTimeout) {
        this.loop = loop;
        this.windowNanos = timeout.toNanos();
        this.waitingOnClient = waitingOnClient;
        this.onTimeout = onTimeout;
    }

    /** The server took something: the wait for its answer starts again. */
    void progress() {
        if (windowNanos <= 0) {
            return;
        }
        lastProgressNanos = System.nanoTime();
        if (task == null) {
            schedule(windowNanos);
        }
    }

    /** The response started, the try failed or the request ended. */
    void stop() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void schedule(long delayNanos) {
        task = loop.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        task = null;
        long now = System.nanoTime();
        if (waitingOnClient.getAsBoolean()) {
            lastProgressNanos = now; // the client is slow, not the server (idle-timeout's business)
        }
        long waited = now - lastProgressNanos;
        if (waited < windowNanos) {
            schedule(windowNanos - waited);
        } else {
            onTimeout.run();
        }
    }
}
