package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What both HTTP/2 bridges (clients' streams: {@link Http2Requests}, {@link Http2ResponseFrames};
 * servers' streams: {@link ServerH2RequestWriter}, {@link ServerH2ResponseBridge}) share when a
 * field crosses between HTTP/2 and HTTP/1.1: the connection-specific fields HTTP/2 has no place
 * for, the edge whitespace RFC 9113 forbids, and a field written as an HTTP/1.1 line.
 */
final class Http2Fields {

    /** RFC 9113 §8.2.2: fields that are about an HTTP/1.1 connection and never cross into HTTP/2. */
    static final List<AsciiString> CONNECTION_SPECIFIC = List.of(HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.UPGRADE);

    private static final byte[] COLON_SP = {':', ' '};
    private static final byte[] CRLF = {'\r', '\n'};

    private Http2Fields() {
    }

    /** True when {@code value} starts or ends with a space or a tab (RFC 9113 §8.2.1 forbids it). */
    static boolean hasBlankAtAnEnd(CharSequence value) {
        int n = value.length();
        return n > 0 && (isBlank(value.charAt(0)) || isBlank(value.charAt(n - 1)));
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    /** {@code name: value CRLF}, the bytes as they came (HPACK strings are octets: obs-text stays obs-text). */
    static void writeLine(ByteBuf out, CharSequence name, CharSequence value) {
        write(out, name);
        out.writeBytes(COLON_SP);
        write(out, value);
        out.writeBytes(CRLF);
    }

    static void write(ByteBuf out, CharSequence s) {
        if (s instanceof AsciiString a) {
            ByteBufUtil.copy(a, out);
        } else {
            out.writeCharSequence(s, StandardCharsets.ISO_8859_1);
        }
    }
}
