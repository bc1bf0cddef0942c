package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Heads as bytes for tests, indexed the way a decoder does it (the text is trusted: one space
 * between start-line parts, CRLF line ends, no blank line). {@code slack} bytes and field slots
 * are left free after the head, as a decoder's arrays have them, so appended fields fit.
 */
final class TestHeads {

    private TestHeads() {
    }

    static MessageHead request(String text) {
        return parse(text, MessageHead.Kind.REQUEST, 0);
    }

    static MessageHead request(String text, int slack) {
        return parse(text, MessageHead.Kind.REQUEST, slack);
    }

    static MessageHead response(String text) {
        return parse(text, MessageHead.Kind.RESPONSE, 0);
    }

    /** Field lines only: {@code "A: 1\r\nB: 2\r\n"}. */
    static MessageHead trailers(String text) {
        return parse(text, MessageHead.Kind.TRAILERS, 0);
    }

    static MessageHead parse(String text, MessageHead.Kind kind, int slack) {
        byte[] b = new byte[text.length() + slack];
        System.arraycopy(text.getBytes(StandardCharsets.ISO_8859_1), 0, b, 0, text.length());
        int lineEnd = kind == MessageHead.Kind.TRAILERS ? 0 : text.indexOf("\r\n") + 2;
        List<Integer> f = new ArrayList<>();
        int p = lineEnd;
        while (p < text.length()) {
            int end = text.indexOf("\r\n", p) + 2;
            int colon = text.indexOf(':', p);
            int vs = colon + 1;
            while (b[vs] == ' ' || b[vs] == '\t') {
                vs++;
            }
            int ve = end - 2;
            while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
                ve--;
            }
            if (vs > ve) {
                vs = ve;
            }
            f.addAll(List.of(p, colon, vs, ve, end));
            p = end;
        }
        int count = f.size() / MessageHead.FIELD_INTS;
        int[] fields = new int[(count + slack / 16 + 1) * MessageHead.FIELD_INTS];
        for (int i = 0; i < f.size(); i++) {
            fields[i] = f.get(i);
        }
        int sp1 = text.indexOf(' ');
        int sp2 = text.indexOf(' ', sp1 + 1);
        return switch (kind) {
            case REQUEST -> MessageHead.request(b, text.length(), sp1, sp1 + 1, sp2, text.charAt(sp2 + 8) - '0',
                    fields, count);
            case RESPONSE -> MessageHead.response(b, text.length(), text.charAt(7) - '0',
                    Integer.parseInt(text.substring(sp1 + 1, sp1 + 4)), sp1 + 5, lineEnd - 2, fields, count);
            case TRAILERS -> MessageHead.trailers(b, text.length(), fields, count);
        };
    }

    /** The request head as the writer puts it on the wire. */
    static String written(MessageHead request) {
        ByteBuf out = Unpooled.buffer();
        request.writeRequest(out);
        return text(out);
    }

    static String writtenResponse(MessageHead response, int minorVersion) {
        ByteBuf out = Unpooled.buffer();
        response.writeResponse(out, minorVersion);
        return text(out);
    }

    /** The buffer's readable bytes as ISO-8859-1 text; releases it. */
    static String text(ByteBuf buf) {
        try {
            return buf.toString(StandardCharsets.ISO_8859_1);
        } finally {
            buf.release();
        }
    }
}
