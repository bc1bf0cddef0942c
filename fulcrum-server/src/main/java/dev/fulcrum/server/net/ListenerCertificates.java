package dev.fulcrum.server.net;

import dev.fulcrum.server.config.CertificateFiles;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.TlsVersion;
import dev.fulcrum.server.tls.TlsProvider;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * One load of a listener's {@code tls} section: a server context per certificate and the SNI
 * names that pick among them. Immutable once built, so a reload builds a new one and publishes it
 * whole; connections already handshaken keep the context they got.
 */
final class ListenerCertificates {

    /** h2 first: a client that speaks both gets HTTP/2; one that offers neither still gets HTTP/1.1. */
    private static final ApplicationProtocolConfig ALPN_H2 = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

    /** SAN type 2 in {@link X509Certificate#getSubjectAlternativeNames()}. */
    private static final int DNS_NAME = 2;

    private final List<SslContext> contexts;
    private final List<X509Certificate> leaves;
    private final SniNames names;

    private ListenerCertificates(List<SslContext> contexts, List<X509Certificate> leaves, SniNames names) {
        this.contexts = contexts;
        this.leaves = leaves;
        this.names = names;
    }

    /**
     * @param h2 offer ALPN {@code h2} and {@code http/1.1} (an http listener with http2 on), else no ALPN
     * @throws IOException with one line naming the file that does not load and why
     */
    static ListenerCertificates load(FulcrumConfig.Tls tls, boolean h2) throws IOException {
        List<SslContext> contexts = new ArrayList<>();
        List<X509Certificate> leaves = new ArrayList<>();
        List<List<String>> names = new ArrayList<>();
        for (FulcrumConfig.Certificate files : tls.certificates()) {
            CertificateFiles.Loaded loaded = CertificateFiles.load(files.cert(), files.key());
            contexts.add(context(loaded, tls, files, h2));
            leaves.add(loaded.leaf());
            names.add(names(loaded.leaf()));
        }
        return new ListenerCertificates(List.copyOf(contexts), List.copyOf(leaves),
                new SniNames(names, tls.sniStrict()));
    }

    /** The context for a ClientHello's SNI (null = none sent), or null when strict and no certificate covers it. */
    SslContext contextFor(String host) {
        int i = names.pick(host);
        return i == SniNames.NONE ? null : contexts.get(i);
    }

    /** Leaf certificates in config order. */
    List<X509Certificate> leaves() {
        return leaves;
    }

    private static SslContext context(CertificateFiles.Loaded loaded, FulcrumConfig.Tls tls,
                                      FulcrumConfig.Certificate files, boolean h2) throws IOException {
        SslProvider provider = TlsProvider.get();
        String[] protocols = tls.minVersion() == TlsVersion.TLS_V1_3 ? new String[]{"TLSv1.3"}
                : new String[]{"TLSv1.3", "TLSv1.2"};
        try {
            SslContextBuilder builder = SslContextBuilder
                    .forServer(new ByteArrayInputStream(loaded.certPem()), new ByteArrayInputStream(loaded.keyPem()))
                    .sslProvider(provider)
                    .protocols(protocols)
                    .ciphers(TlsProvider.AEAD_CIPHERS, SupportedCipherSuiteFilter.INSTANCE);
            if (h2) {
                // every certificate's context: the SNI picks the context, ALPN is negotiated in it
                builder.applicationProtocolConfig(ALPN_H2);
            }
            if (tls.clientCa() != null) {
                // read again with each load, like the certificates: a reload picks up a renewed bundle
                builder.trustManager(tls.clientCa().toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            SslContext context = builder.build();
            if (context.sessionContext() instanceof OpenSslSessionContext session) {
                // Netty turns BoringSSL's tickets off unless keys are set; none = BoringSSL's own rotating keys.
                session.setTicketKeys();
                session.setSessionCacheEnabled(true);
            }
            return context;
        } catch (Exception | Error e) {
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse("").strip();
            throw new IOException(files.cert() + ": " + reason, e);
        }
    }

    /** The SAN DNS names, else the subject's CN: what a client verifies, so what SNI matches. */
    static List<String> names(X509Certificate leaf) {
        List<String> dns = dnsNames(leaf);
        return dns.isEmpty() ? commonNames(leaf) : dns;
    }

    /** The SAN entries of type DNS name; none when the extension is absent or unreadable. */
    private static List<String> dnsNames(X509Certificate leaf) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> san = leaf.getSubjectAlternativeNames();
            if (san != null) {
                for (List<?> entry : san) {
                    if (entry.get(0) instanceof Integer type && type == DNS_NAME) {
                        out.add((String) entry.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // an unreadable SAN extension: fall back to the CN like a certificate without one
        }
        return List.copyOf(out);
    }

    /** The subject's CN values, in order. */
    private static List<String> commonNames(X509Certificate leaf) {
        List<String> out = new ArrayList<>();
        try {
            for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    out.add(String.valueOf(rdn.getValue()));
                }
            }
        } catch (InvalidNameException e) {
            // no CN either: the certificate is only ever the default
        }
        return List.copyOf(out);
    }
}
