package dev.fulcrum.server.alert;

/**
 * Where alerts go (one per {@code alerts[]} entry). {@link #send} must return at once — it is
 * called from the thread that changed the registry — and must never throw; delivery, retries
 * and their failures are the sink's own business.
 */
public interface AlertSink extends AutoCloseable {

    /** Hands over a firing or resolved alert. Non-blocking. */
    void send(Alert alert);

    /** Stops delivering; pending alerts may be dropped. */
    @Override
    void close();
}
