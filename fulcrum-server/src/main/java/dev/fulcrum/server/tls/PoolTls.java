package dev.fulcrum.server.tls;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.CertificateFiles;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Optional;

/**
 * One load of a pool's {@code tls} section: the client context Fulcrum speaks TLS to the pool's
 * servers with (its CA bundle or the system's trust store, its client certificate), and how each
 * server connection's {@link SslHandler} is made from it: SNI and the verified name are
 * {@code server-name}, else the server's host (an IP address gets no SNI and is verified against
 * the certificate's IP subjectAltNames), with HTTPS endpoint identification unless
 * {@code verify: false}.
 *
 * <p>Immutable, so a reload builds a new one (reading the files again) and publishes it whole with
 * the pool's view; connections made with the old one keep it. Safe from any thread.
 */
public final class PoolTls {

    private static final Logger log = LoggerFactory.getLogger(PoolTls.class);

    private final String pool;
    private final ServerTls settings;
    private final SslContext context;
    private final boolean h2;

    private PoolTls(String pool, ServerTls settings, SslContext context, boolean h2) {
        this.pool = pool;
        this.settings = settings;
        this.context = context;
        this.h2 = h2;
    }

    /**
     * @return the pool's TLS to its servers, or null when it speaks plain text
     * @throws IOException with one line naming the file that does not load and why
     */
    public static PoolTls load(PoolConfig pool) throws IOException {
        ServerTls tls = pool.tls();
        if (tls == null) {
            return null;
        }
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(TlsProvider.get())
                .protocols("TLSv1.3", "TLSv1.2")
                .ciphers(TlsProvider.AEAD_CIPHERS, SupportedCipherSuiteFilter.INSTANCE);
        if (tls.verify()) {
            // HTTPS identification: the certificate must carry the SNI name, or the IP dialled
            builder.endpointIdentificationAlgorithm("HTTPS");
            if (tls.ca() != null) {
                Optional<String> problem = CertificateFiles.caProblem(tls.ca()); // read again: renewed in place
                if (problem.isPresent()) {
                    throw new IOException(problem.get());
                }
                builder.trustManager(tls.ca().toFile()); // null trust manager = the system's store
            }
        } else {
            log.warn("pool {}: tls verify is false: the servers' certificates are not checked, anyone on the"
                    + " path can pose as them", pool.name());
            builder.endpointIdentificationAlgorithm(null).trustManager(InsecureTrustManagerFactory.INSTANCE);
        }
        boolean h2 = pool.protocol() == UpstreamProtocol.H2;
        if (h2) {
            // h2 only: a server that does not agree is refused (H2AlpnCheck), never spoken HTTP/1.1 to.
            // NO_ADVERTISE + ACCEPT are what both engines support; the check after the handshake decides
            builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2));
        }
        if (tls.cert() != null) {
            CertificateFiles.Loaded client = CertificateFiles.load(tls.cert(), tls.key());
            builder.keyManager(new ByteArrayInputStream(client.certPem()), new ByteArrayInputStream(client.keyPem()));
        }
        try {
            return new PoolTls(pool.name(), tls, builder.build(), h2);
        } catch (Exception | Error e) {
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse("").strip();
            throw new IOException((tls.ca() != null ? tls.ca() + ": " : "") + reason, e);
        }
    }

    /**
     * True for an h2 pool: the handshake offers ALPN {@code h2} alone, and a connection whose server
     * did not choose it must not be used ({@link #agreedH2}).
     */
    public boolean offersH2() {
        return h2;
    }

    /** True when the handshake of {@code handler} (complete) chose {@code h2} by ALPN. */
    public static boolean agreedH2(SslHandler handler) {
        return ApplicationProtocolNames.HTTP_2.equals(handler.applicationProtocol());
    }

    /** The {@code tls} section this was loaded from. */
    public ServerTls settings() {
        return settings;
    }

    public String pool() {
        return pool;
    }

    /**
     * What server certificates are verified against, for messages. Not the file's path: the reason
     * also reaches clients in Fulcrum's 502, and the pool's name in the log line leads to the file.
     */
    public String caName() {
        return settings.ca() == null ? "a CA of the system's trust store" : "the pool's ca";
    }

    /** The name a server's certificate must carry: {@code server-name}, else the server's host. */
    public String nameFor(HostPort server) {
        return settings.serverName().isEmpty() ? server.host() : settings.serverName();
    }

    /**
     * The TLS handler of a new connection to {@code server}, first in its pipeline. A handshake
     * that does not complete in {@code handshakeTimeoutMillis} fails like one refused.
     */
    public SslHandler newHandler(ByteBufAllocator alloc, HostPort server, long handshakeTimeoutMillis) {
        // the peer host becomes SNI (not for an IP address: the engines leave it out) and the verified name
        SslHandler handler = context.newHandler(alloc, nameFor(server), server.port());
        handler.setHandshakeTimeoutMillis(Math.max(1, handshakeTimeoutMillis));
        return handler;
    }
}
