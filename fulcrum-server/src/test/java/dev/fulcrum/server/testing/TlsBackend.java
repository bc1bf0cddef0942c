package dev.fulcrum.server.testing;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.CertificateFiles;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTPS server on 127.0.0.1 (the JDK's, so it shares no code with Fulcrum's TLS) for the pool
 * {@code tls} tests: it serves one certificate, answers every path with {@code server NAME} and
 * the client certificate's subject (or "none"), and keeps what a test asks about: how many
 * requests came, over which connections (the client's port), and the SNI names sent.
 * Optionally it requires a client certificate signed by a given CA.
 */
public final class TlsBackend implements AutoCloseable {

    private final HttpsServer https;
    private final AtomicInteger requests = new AtomicInteger();
    /** The client port of each request, in arrival order: a new port is a new connection. */
    private final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
    private final Set<String> sniNames = ConcurrentHashMap.newKeySet();

    private TlsBackend(HttpsServer https) {
        this.https = https;
    }

    /**
     * @param certificate the server's certificate and key (PEM, PKCS#8)
     * @param clientCa    when not null, clients must present a certificate this CA (PEM) signed
     */
    public static TlsBackend start(String name, TestCertificates.Files certificate, Path clientCa) throws Exception {
        CertificateFiles.Loaded loaded = CertificateFiles.load(certificate.cert(), certificate.key());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", loaded.key(), "changeit".toCharArray(),
                loaded.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "changeit".toCharArray());
        TrustManagerFactory tmf = null;
        if (clientCa != null) {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            int i = 0;
            for (var cert : java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(java.nio.file.Files.newInputStream(clientCa))) {
                trusted.setCertificateEntry("ca" + i++, cert);
            }
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        boolean needClientAuth = clientCa != null;
        https.setHttpsConfigurator(new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                var parameters = context.getDefaultSSLParameters();
                parameters.setNeedClientAuth(needClientAuth);
                params.setSSLParameters(parameters);
            }
        });
        TlsBackend backend = new TlsBackend(https);
        https.createContext("/", exchange -> {
            backend.requests.incrementAndGet();
            backend.clientPorts.add(exchange.getRemoteAddress().getPort());
            SSLSession session = ((com.sun.net.httpserver.HttpsExchange) exchange).getSSLSession();
            if (session instanceof javax.net.ssl.ExtendedSSLSession extended) {
                extended.getRequestedServerNames().forEach(n -> backend.sniNames.add(
                        new String(n.getEncoded(), StandardCharsets.US_ASCII)));
            }
            String subject;
            try {
                subject = ((X509Certificate) session.getPeerCertificates()[0]).getSubjectX500Principal().getName();
            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                subject = "none";
            }
            exchange.getRequestBody().readAllBytes();
            String query = exchange.getRequestURI().getQuery();
            byte[] body = query != null && query.startsWith("n=") ? pattern(Integer.parseInt(query.substring(2)))
                    : ("server " + name + " client " + subject).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        https.start();
        return backend;
    }

    /** {@code n} bytes of a repeating pattern, what {@code ?n=N} answers: a large body to check byte for byte. */
    public static byte[] pattern(int n) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) ('a' + i % 26);
        }
        return out;
    }

    public HostPort address() {
        return new HostPort("127.0.0.1", https.getAddress().getPort());
    }

    /** Requests answered so far. */
    public int requests() {
        return requests.get();
    }

    /** The client port of each request so far, oldest first. */
    public List<Integer> clientPorts() {
        return List.copyOf(clientPorts);
    }

    /** The SNI names clients sent with the requests so far. */
    public Set<String> sniNames() {
        return Set.copyOf(sniNames);
    }

    @Override
    public void close() {
        https.stop(0);
    }
}
