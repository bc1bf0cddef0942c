package dev.fulcrum.server.cluster;

import dev.fulcrum.server.config.FulcrumConfig.EtcdTls;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;

/**
 * Why etcd over TLS does not answer, in one line an operator can act on. gRPC reports a failed
 * handshake as "ssl exception", or not at all (it retries until the call's deadline), so when a
 * call to etcd fails, {@link EtcdStore} asks this check, which shakes hands with each {@code https}
 * endpoint itself, with the same CA and client certificate, and names the first endpoint whose
 * handshake fails and why: etcd's certificate not signed by {@code cluster.tls.ca}, not valid for
 * the endpoint's address, or this node's certificate refused. An endpoint that does not accept
 * connections at all is not a TLS problem and is passed over. The verdict is kept for
 * {@link #KEEP}, so a node whose etcd is down does not shake hands on every failed call.
 *
 * <p>Thread-safe.
 */
final class EtcdTlsCheck {

    static final Duration KEEP = Duration.ofSeconds(10);
    private static final int TIMEOUT_MILLIS = 1_000;
    /** The HTTP/2 connection preface: etcd answers it with its SETTINGS once it accepted this client. */
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final EtcdTls tls;
    private final List<URI> endpoints;
    private final SSLContext context;
    private long checkedAt;
    private String verdict;

    EtcdTlsCheck(EtcdTls tls, List<URI> endpoints) throws SSLException {
        this.tls = tls;
        this.endpoints = endpoints.stream().filter(u -> u.getScheme().equals("https")).toList();
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
        if (tls.ca() != null) {
            builder.trustManager(tls.ca().toFile());
        }
        if (tls.cert() != null) {
            builder.keyManager(tls.cert().toFile(), tls.key().toFile());
        }
        this.context = ((JdkSslContext) builder.build()).context();
    }

    /** The first endpoint's TLS failure as one line, or null when TLS is not what fails. */
    synchronized String failure() {
        long now = System.nanoTime();
        if (checkedAt != 0 && now - checkedAt < KEEP.toNanos()) {
            return verdict;
        }
        verdict = null;
        for (URI endpoint : endpoints) {
            String failure = handshake(endpoint);
            if (failure != null) {
                verdict = "etcd " + endpoint + ": TLS handshake failed: " + failure;
                break;
            }
        }
        checkedAt = System.nanoTime();
        return verdict;
    }

    /** Null when the handshake succeeds (or the endpoint does not accept connections); why it failed otherwise. */
    private String handshake(URI endpoint) {
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), TIMEOUT_MILLIS);
        } catch (IOException e) {
            close(plain);
            return null;
        }
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, endpoint.getHost(),
                endpoint.getPort(), true)) {
            socket.setSoTimeout(TIMEOUT_MILLIS);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS"); // as gRPC checks the name
            parameters.setApplicationProtocols(new String[]{"h2"});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return afterHandshake(socket);
        } catch (java.net.SocketTimeoutException e) {
            return null; // connected and silent: not a TLS refusal
        } catch (IOException e) {
            return reason(e);
        }
    }

    /**
     * With TLS 1.3 the client's handshake ends before etcd has checked the client certificate: a
     * refusal shows as the connection closing (an alert, a reset, a broken pipe) once something is
     * sent. So the HTTP/2 preface is sent, and any answer means this client was accepted.
     */
    private String afterHandshake(SSLSocket socket) {
        try {
            socket.getOutputStream().write(PREFACE);
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            if (in.read() >= 0) {
                return null;
            }
            return refused("etcd closed the connection");
        } catch (java.net.SocketTimeoutException e) {
            return null;
        } catch (IOException e) {
            return refused(EtcdStore.oneLine(e));
        }
    }

    private String refused(String detail) {
        return "etcd refused this node's client certificate"
                + (tls.cert() == null ? " (none given: set cluster.tls.cert and key)" : " (" + tls.cert() + ")")
                + ": " + detail;
    }

    private String reason(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertPathBuilderException || t.getClass().getName().endsWith("ValidatorException")) {
                return "etcd's certificate is not signed by cluster.tls.ca"
                        + (tls.ca() == null ? " (none given: the system's CAs)" : " (" + tls.ca() + ")");
            }
            if (t instanceof CertificateException c && c.getMessage() != null
                    && c.getMessage().contains("subject alternative")) {
                return "etcd's certificate does not name this address: " + EtcdStore.oneLine(c);
            }
            String m = t.getMessage() == null ? "" : t.getMessage();
            if (m.contains("certificate_required") || m.contains("bad_certificate") || m.contains("unknown_ca")) {
                return refused(EtcdStore.oneLine(t));
            }
        }
        return EtcdStore.oneLine(e);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
