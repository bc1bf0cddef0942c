package dev.fulcrum.server.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Closes what a test opened once the test is over, the last opened first (a proxy before the
 * backends behind it). Register with {@code @RegisterExtension final CloseAfterEach closer = new
 * CloseAfterEach();} and wrap each resource in {@link #add}. Every resource is closed even when
 * one fails to close; the first failure fails the test. Thread-safe: a test may add from any thread.
 */
public final class CloseAfterEach implements AfterEachCallback {

    private final List<AutoCloseable> open = new ArrayList<>();

    /** @return {@code resource}, to be closed after the test */
    public synchronized <T extends AutoCloseable> T add(T resource) {
        open.add(resource);
        return resource;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<AutoCloseable> toClose;
        synchronized (this) {
            toClose = List.copyOf(open.reversed());
            open.clear();
        }
        Closing.all(toClose);
    }
}
