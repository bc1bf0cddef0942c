package dev.fulcrum.server.http;

import java.io.IOException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link ProxyFixture} whose pool is one {@link RawBackend}: the smuggling and poisoning tests'
 * set-up, one per test.
 */
final class RawBackendProxy implements AutoCloseable {

    final RawBackend backend;
    final ProxyFixture proxy;

    private RawBackendProxy(RawBackend backend, ProxyFixture proxy) {
        this.backend = backend;
        this.proxy = proxy;
    }

    /** Starts the backend with {@code responder}, then the proxy with {@code settings} applied. */
    static RawBackendProxy start(Function<String, String> responder, Consumer<ProxyFixture> settings)
            throws Exception {
        RawBackend backend = new RawBackend(responder);
        ProxyFixture proxy = new ProxyFixture();
        proxy.servers.add(backend.address());
        settings.accept(proxy);
        try {
            proxy.start();
        } catch (Exception e) {
            backend.close();
            throw e;
        }
        return new RawBackendProxy(backend, proxy);
    }

    static RawBackendProxy start(Function<String, String> responder) throws Exception {
        return start(responder, p -> { });
    }

    /** A client connection to the proxy. */
    RawHttp client() throws IOException {
        return new RawHttp(proxy.port, 10_000);
    }

    @Override
    public void close() throws IOException {
        proxy.close();
        backend.close();
    }
}
