package dev.fulcrum.server.http.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageHeadTest {

    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString CONNECTION = AsciiString.cached("connection");
    private static final AsciiString XFF = AsciiString.cached("x-forwarded-for");

    /** A request head indexed the way a decoder does it (the head is trusted here). */
    static MessageHead parse(String text) {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        int lineEnd = text.indexOf("\r\n") + 2;
        int sp1 = text.indexOf(' ');
        int sp2 = text.indexOf(' ', sp1 + 1);
        List<Integer> f = new ArrayList<>();
        int p = lineEnd;
        while (p < b.length) {
            int end = text.indexOf("\r\n", p) + 2;
            int colon = text.indexOf(':', p);
            int vs = colon + 1;
            while (b[vs] == ' ') {
                vs++;
            }
            int ve = end - 2;
            while (ve > vs && b[ve - 1] == ' ') {
                ve--;
            }
            f.addAll(List.of(p, colon, vs, ve, end));
            p = end;
        }
        int[] fields = f.stream().mapToInt(Integer::intValue).toArray();
        return MessageHead.request(b, b.length, sp1, sp1 + 1, sp2, text.charAt(sp2 + 8) - '0', fields,
                fields.length / MessageHead.FIELD_INTS);
    }

    private static String written(MessageHead head) {
        ByteBuf out = Unpooled.buffer();
        head.writeRequest(out);
        String s = out.toString(StandardCharsets.ISO_8859_1);
        out.release();
        return s;
    }

    @Test
    void hostAndConnectionAreReadOnceAndAgainAfterAnEditOfTheirFields() {
        MessageHead h = parse("GET / HTTP/1.1\r\nAccept: */*\r\nHost: a.example\r\nConnection: Keep-Alive, X-Hop\r\n");
        assertThat(h.hostIndex()).isEqualTo(1);
        assertThat(h.connectionOptions())
                .isEqualTo(MessageHead.CONNECTION_KEEP_ALIVE | MessageHead.CONNECTION_OTHER);
        h.add("X-Other", "1"); // neither Host nor Connection: what was read stays
        assertThat(h.hostIndex()).isEqualTo(1);
        h.add("connection", "close, upgrade");
        assertThat(h.connectionOptions()).isEqualTo(MessageHead.CONNECTION_KEEP_ALIVE | MessageHead.CONNECTION_OTHER
                | MessageHead.CONNECTION_CLOSE | MessageHead.CONNECTION_UPGRADE);
        h.removeAll(CONNECTION);
        assertThat(h.connectionOptions()).isZero();
        h.set(HOST, "Host", "b.example");
        assertThat(h.hostIndex()).isEqualTo(5);
        assertThat(h.value(h.hostIndex()).toString()).isEqualTo("b.example");
        h.remove(5);
        assertThat(h.hostIndex()).isEqualTo(-1);
    }

    @Test
    void whatADecoderRecordedIsWhatIsAnswered() {
        MessageHead h = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n");
        h.recordHost(0);
        h.recordConnectionOptions(MessageHead.CONNECTION_CLOSE);
        assertThat(h.hostIndex()).isZero();
        assertThat(h.connectionOptions()).isEqualTo(MessageHead.CONNECTION_CLOSE);
    }

    @Test
    void readsTheIndexWithoutCaringForCase() {
        MessageHead h = parse("GET /a?b HTTP/1.1\r\nHost: example.com\r\nconnection:  Keep-Alive , Foo \r\n");
        assertThat(h.method()).isSameAs(HttpMethod.GET);
        assertThat(h.target()).isEqualTo("/a?b");
        assertThat(h.minorVersion()).isEqualTo(1);
        assertThat(h.indexOf(HOST)).isZero();
        assertThat(h.get(HOST)).isEqualTo("example.com");
        assertThat(h.hasToken(CONNECTION, AsciiString.cached("keep-alive"))).isTrue();
        assertThat(h.hasToken(CONNECTION, AsciiString.cached("foo"))).isTrue();
        assertThat(h.hasToken(CONNECTION, AsciiString.cached("fo"))).isFalse();
        assertThat(h.value(1).toString()).isEqualTo("Keep-Alive , Foo");
    }

    @Test
    void writesKeptLinesAsReceivedAndAppendsNewOnes() {
        MessageHead h = parse("POST /x HTTP/1.0\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n");
        int xff = h.indexOf(XFF);
        h.beginField("X-Forwarded-For");
        h.appendValueOf(xff);
        h.appendText(", 127.0.0.1");
        h.endField();
        h.remove(xff);
        h.removeAll(CONNECTION);
        assertThat(written(h)).isEqualTo("POST /x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n\r\n");
        assertThat(h.get(XFF)).isEqualTo("10.0.0.1, 127.0.0.1");
        assertThat(h.count(CONNECTION)).isZero();
    }

    @Test
    void newHeadsAreBuiltFieldByField() {
        MessageHead h = MessageHead.newRequest(HttpMethod.PUT, "/p");
        for (int i = 0; i < 40; i++) {
            h.add("X-N" + i, "v" + i); // past the first arrays: both grow
        }
        h.setTarget("/q");
        assertThat(h.size()).isEqualTo(40);
        assertThat(h.get(AsciiString.cached("x-n39"))).isEqualTo("v39");
        assertThat(written(h)).startsWith("PUT /q HTTP/1.1\r\nX-N0: v0\r\n").endsWith("X-N39: v39\r\n\r\n");

        MessageHead r = MessageHead.newResponse(404, "Not Found");
        r.add("Content-Length", "0");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.longValue(0)).isZero();
        assertThat(r.toString()).isEqualTo("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }

    @Test
    void refusesBytesThatWouldSplitAField() {
        MessageHead h = MessageHead.newResponse(200, "OK");
        assertThatThrownBy(() -> h.add("X-A", "b\r\nSet-Cookie: c")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.add("X A", "b")).isInstanceOf(IllegalArgumentException.class);
        h.add("X-B", "ok");
        assertThat(h.toString()).isEqualTo("HTTP/1.1 200 OK\r\nX-B: ok\r\n\r\n");
    }

    @Test
    void readsNumbersStrictly() {
        MessageHead h = parse("GET / HTTP/1.1\r\nA: 12\r\nB: +1\r\nC: 1 2\r\nD: 9999999999999999999\r\nE:\r\n");
        assertThat(h.longValue(0)).isEqualTo(12);
        assertThat(h.longValue(1)).isEqualTo(-1);
        assertThat(h.longValue(2)).isEqualTo(-1);
        assertThat(h.longValue(3)).isEqualTo(-1);
        assertThat(h.longValue(4)).isEqualTo(-1);
    }

    @Test
    void iteratesListElementsWithoutAllocating() {
        MessageHead h = parse("GET / HTTP/1.1\r\nConnection: , a ,,b\t,\r\n");
        List<String> tokens = new ArrayList<>();
        for (long t = h.nextToken(0, h.valueStart(0)); t >= 0; t = h.nextToken(0, MessageHead.tokenEnd(t))) {
            tokens.add(new String(h.value(0).array(), MessageHead.tokenStart(t),
                    MessageHead.tokenEnd(t) - MessageHead.tokenStart(t), StandardCharsets.ISO_8859_1));
        }
        assertThat(tokens).containsExactly("a", "b");
    }

    @Test
    void readsBytesInsideAValueByOffset() {
        MessageHead h = parse("GET / HTTP/1.1\r\nVia: 1.1 edge\r\n");
        long t = h.nextToken(0, h.valueStart(0));
        assertThat((char) h.byteAt(MessageHead.tokenStart(t))).isEqualTo('1');
        assertThat((char) h.byteAt(MessageHead.tokenEnd(t) - 1)).isEqualTo('e');
        assertThatThrownBy(() -> h.byteAt(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void walksAValueByteByByteAndCountsLiveFields() {
        MessageHead h = parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked \r\nX: 1\r\n");
        int te = h.indexOf(AsciiString.cached("transfer-encoding"));
        StringBuilder value = new StringBuilder();
        for (int p = h.valueStart(te); p < h.valueEnd(te); p++) {
            value.append((char) h.byteAt(p));
        }
        assertThat(value).hasToString("chunked");
        assertThatThrownBy(() -> h.byteAt(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(h.liveSize()).isEqualTo(3);
        h.remove(te);
        assertThat(h.liveSize()).isEqualTo(2);
        assertThat(h.size()).isEqualTo(3);
    }
}
