package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

/**
 * {@code X-Client-Cert-Subject}: the subject (RFC 2253) of the certificate a client presented and
 * the listener's {@code client-ca} verified, passed to the servers. The field is removed from every
 * request first, so that a server can trust it: only Fulcrum writes it. Stateless.
 */
final class ClientCertHeader {

    static final String NAME = "X-Client-Cert-Subject";
    private static final AsciiString LOWER_NAME = AsciiString.cached("x-client-cert-subject");

    private ClientCertHeader() {
    }

    /** The verified client certificate's subject on this connection, or null without one. */
    static String subject(Channel channel) {
        // an HTTP/2 stream's TLS is its connection's
        Channel connection = channel instanceof Http2StreamChannel stream ? stream.parent() : channel;
        SslHandler ssl = connection.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        SSLSession session = ssl.engine().getSession();
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate leaf
                    ? printable(leaf.getSubjectX500Principal().getName()) : null;
        } catch (SSLPeerUnverifiedException e) {
            return null; // no client-ca: clients present nothing
        }
    }

    /** Drops any field of that name the client sent, then adds {@code subject} when there is one. */
    static void toServer(MessageHead request, String subject) {
        request.removeAll(LOWER_NAME);
        if (subject != null) {
            request.add(NAME, subject);
        }
    }

    /** A subject may hold any UTF-8 the CA signed; a header value gets visible ASCII, the rest as \xHH. */
    private static String printable(String subject) {
        StringBuilder out = new StringBuilder(subject.length());
        for (byte b : subject.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (b >= 0x20 && b < 0x7f && b != '\\') {
                out.append((char) b);
            } else {
                out.append(String.format("\\x%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
