package dev.fulcrum.server.net;

import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.tls.TlsProvider;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The TLS a listener terminates: its certificates, chosen per connection by the client's SNI. Each
 * connection's {@link SniHandler} reads the current {@link ListenerCertificates} when its
 * ClientHello arrives, so {@link #reload} changes what new handshakes get without touching the
 * socket or the connections already open. Reloads run on the control thread; the event loops only
 * read the volatile field.
 */
public final class ListenerTls {

    /** A connection that sends no ClientHello in this long is closed, as SslHandler's own handshake timeout would. */
    private static final long CLIENT_HELLO_TIMEOUT_MILLIS = 10_000;

    private final String listener;
    /** ALPN offers h2: an http listener with http2 on. Fixed for the listener's life (a change of it is a new listener). */
    private final boolean h2;
    private final Mapping<String, SslContext> mapping = this::contextFor;
    private volatile ListenerCertificates current;

    private ListenerTls(String listener, boolean h2, ListenerCertificates current) {
        this.listener = listener;
        this.h2 = h2;
        this.current = current;
    }

    /**
     * @return the listener's TLS, or null when it has no {@code tls} section
     * @throws IllegalStateException with one line naming the listener, when a certificate does not load
     */
    public static ListenerTls load(FulcrumConfig.Listener listener) {
        if (listener.tls() == null) {
            return null;
        }
        try {
            boolean h2 = listener.protocol() == FulcrumConfig.Protocol.HTTP && listener.http2().enabled();
            return new ListenerTls(listener.name(), h2, ListenerCertificates.load(listener.tls(), h2));
        } catch (IOException e) {
            throw new IllegalStateException(problem(listener.name(), e));
        }
    }

    /**
     * Reads the certificate files again (they may have been renewed under the same names) and, when
     * all load, makes them the ones new handshakes get.
     *
     * @return null when loaded, else one line saying why the old certificates stay
     */
    public String reload(FulcrumConfig.Tls tls) {
        try {
            current = ListenerCertificates.load(tls, h2);
            return null;
        } catch (IOException e) {
            return problem(listener, e) + "; keeping the certificates loaded before";
        }
    }

    /**
     * A new connection's first TLS handler: it waits for the ClientHello, then becomes the
     * SslHandler its SNI picks.
     */
    public ChannelHandler newHandler() {
        return new SniHandler(mapping, CLIENT_HELLO_TIMEOUT_MILLIS);
    }

    /** The leaf certificates new handshakes get, in config order. */
    public List<X509Certificate> certificates() {
        return current.leaves();
    }

    /** A certificate's name for logs and metrics: its first SAN DNS name, else its CN, else its subject. */
    public static String nameOf(X509Certificate leaf) {
        List<String> names = ListenerCertificates.names(leaf);
        return names.isEmpty() ? leaf.getSubjectX500Principal().getName() : names.getFirst();
    }

    /** Every name SNI matches against the certificate: its SAN DNS names, else its CN. */
    public static List<String> namesOf(X509Certificate leaf) {
        return ListenerCertificates.names(leaf);
    }

    /**
     * The TLS engine of every listener of this process, {@code BoringSSL} or {@code JDK}. The first
     * call chooses it (and logs which), so ask only when a listener has TLS.
     */
    public static String providerName() {
        return TlsProvider.displayName();
    }

    private SslContext contextFor(String host) {
        SslContext context = current.contextFor(host);
        if (context == null) {
            // fails the SniHandler's lookup, which closes the connection before any certificate is sent
            throw new IllegalArgumentException("listener " + listener + ": no certificate for the name "
                    + Escape.text(host) + " (sni-strict)");
        }
        return context;
    }

    private static String problem(String listener, IOException e) {
        return "listener " + listener + ": cannot load the TLS certificate or key: " + e.getMessage();
    }
}
