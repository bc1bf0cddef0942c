package dev.fulcrum.server;

import dev.fulcrum.server.config.FulcrumConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * PLACEHOLDER (cli branch) until the lead's runtime lands: the running load balancer (config ->
 * registry -> listeners). This stand-in starts nothing; it only has the API the CLI calls.
 */
public final class FulcrumServer {

    private static final Logger log = LoggerFactory.getLogger(FulcrumServer.class);

    private final CountDownLatch stopped = new CountDownLatch(1);

    private FulcrumServer() {
    }

    /** Starts every listener of {@code config}. @throws StartException with a one-line reason */
    public static FulcrumServer start(FulcrumConfig config) {
        log.warn("{}: the runtime is not wired yet; no listener was started", config.name());
        return new FulcrumServer();
    }

    /** Applies a new, valid config. */
    public void reload(FulcrumConfig config) {
        log.warn("{}: reload is not wired yet", config.name());
    }

    /** Graceful stop: stop accepting, let in-flight requests finish for up to {@code drainTimeout}. */
    public void stop(Duration drainTimeout) {
        stopped.countDown();
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStopped() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
