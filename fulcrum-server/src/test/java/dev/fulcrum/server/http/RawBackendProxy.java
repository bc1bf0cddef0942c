package dev.fulcrum.server.http;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link ProxyFixture} whose pool is one {@link RawBackend}: the smuggling and poisoning tests'
 * set-up. Register it with {@code @RegisterExtension}; each test calls {@link #start} with its
 * responder, and both are closed after the test.
 */
final class RawBackendProxy implements AfterEachCallback, AutoCloseable {

    private final Consumer<ProxyFixture> settings;
    RawBackend backend;
    ProxyFixture proxy;

    /** @param settings applied to the proxy before it starts */
    RawBackendProxy(Consumer<ProxyFixture> settings) {
        this.settings = settings;
    }

    RawBackendProxy() {
        this(p -> { });
    }

    /** Starts the backend with {@code responder}, then the proxy in front of it. */
    RawBackendProxy start(Function<String, String> responder) throws Exception {
        backend = new RawBackend(responder);
        proxy = new ProxyFixture();
        proxy.servers.add(backend.address());
        settings.accept(proxy);
        proxy.start();
        return this;
    }

    /** A client connection to the proxy. */
    RawHttp client() throws IOException {
        return new RawHttp(proxy.port, 10_000);
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
    }

    @Override
    public void close() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }
}
