package dev.fulcrum.server.net;

import dev.fulcrum.server.config.FulcrumConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

/** The TLS context a listener terminates with, loaded once at start from its PEM cert and key. */
public final class ListenerTls {

    private ListenerTls() {
    }

    /**
     * @return the server context, or null when the listener has no {@code tls} section
     * @throws IllegalStateException with one line naming the listener, when the files do not load
     */
    public static SslContext load(FulcrumConfig.Listener listener) {
        if (listener.tls() == null) {
            return null;
        }
        try {
            return SslContextBuilder.forServer(listener.tls().cert().toFile(), listener.tls().key().toFile()).build();
        } catch (Exception | Error e) {
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse("").strip();
            throw new IllegalStateException("listener " + listener.name()
                    + ": cannot load the TLS certificate or key: " + reason);
        }
    }
}
