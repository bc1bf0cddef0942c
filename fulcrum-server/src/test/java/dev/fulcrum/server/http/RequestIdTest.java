package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code X-Request-Id}: kept when valid, created when absent, replaced when not valid; ids never repeat. */
class RequestIdTest {

    private static final String ID = "[0-9a-f]{32}";

    private static MessageHead request(String fields) {
        return TestHeads.request("GET / HTTP/1.1\r\nHost: app\r\n" + fields, 64);
    }

    private static String ids(MessageHead h) {
        StringBuilder out = new StringBuilder();
        for (int i = h.indexOf(RequestId.NAME); i >= 0; i = h.indexOf(RequestId.NAME, i + 1)) {
            out.append(out.isEmpty() ? "" : ",").append(h.valueString(i));
        }
        return out.toString();
    }

    @Test
    void aValidIdIsKeptInPlace() {
        MessageHead h = request("X-Request-Id: abc-123_{x}\r\nAccept: */*\r\n");
        int i = RequestId.ensure(h);
        assertThat(i).isEqualTo(1);
        assertThat(ids(h)).isEqualTo("abc-123_{x}");
        assertThat(TestHeads.written(h)).isEqualTo("GET / HTTP/1.1\r\nHost: app\r\nX-Request-Id: abc-123_{x}\r\n"
                + "Accept: */*\r\n\r\n");
    }

    @Test
    void aMissingIdIsCreatedAsThirtyTwoHexDigits() {
        MessageHead h = request("");
        int i = RequestId.ensure(h);
        assertThat(h.valueString(i)).matches(ID);
        assertThat(TestHeads.written(h)).matches("GET / HTTP/1.1\r\nHost: app\r\nX-Request-Id: " + ID + "\r\n\r\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"X-Request-Id: \r\n", "X-Request-Id: two words\r\n", "X-Request-Id: caf\u00e9\r\n",
            "X-Request-Id: a\r\nX-Request-Id: b\r\n", "X-Request-Id: tab\there\r\n"})
    void anInvalidIdIsReplacedByOneNewId(String fields) {
        MessageHead h = request(fields);
        int i = RequestId.ensure(h);
        assertThat(ids(h)).matches(ID);
        assertThat(h.valueString(i)).matches(ID);
    }

    @Test
    void twoHundredCharactersAreKeptAndOneMoreIsReplaced() {
        String longest = "x".repeat(RequestId.MAX_LENGTH);
        assertThat(ids(ensured(request("X-Request-Id: " + longest + "\r\n")))).isEqualTo(longest);
        assertThat(ids(ensured(request("X-Request-Id: " + longest + "y\r\n")))).matches(ID);
    }

    private static MessageHead ensured(MessageHead h) {
        RequestId.ensure(h);
        return h;
    }

    @Test
    void newIdsNeverRepeatWithinAThreadOrAcrossThreads() throws Exception {
        int perThread = 20_000;
        Set<String> ids = new HashSet<>();
        for (int t = 0; t < 4; t++) {
            ids.addAll(CompletableFuture.supplyAsync(() -> {
                Set<String> mine = new HashSet<>();
                for (int i = 0; i < perThread; i++) {
                    mine.add(RequestId.next());
                }
                return mine;
            }, r -> new Thread(r).start()).get());
        }
        assertThat(ids).hasSize(4 * perThread).allMatch(id -> id.matches(ID));
    }
}
