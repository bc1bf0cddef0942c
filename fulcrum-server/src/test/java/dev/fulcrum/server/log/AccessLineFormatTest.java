package dev.fulcrum.server.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.server.config.AccessLogConfig.Format;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The two line formats, byte for byte where it matters, and parsed the way their readers parse them. */
class AccessLineFormatTest {

    /** 2026-12-07T01:23:45.678Z */
    static final long TIME = 1796606625678L;

    static final AccessEntry REQUEST = new AccessEntry(TIME, "192.0.2.7", "web", "web#1", "app", "10.0.0.1:8080",
            "GET", "/search?q=a%20b", "HTTP/1.1", 200, 78, 1234, 12_345_678, "f00dfeed", "https://example.com/",
            "curl/8.5.0");

    static final List<String> FIELDS = List.of("time", "client", "listener", "route", "pool", "server", "method",
            "path", "protocol", "status", "bytes_in", "bytes_out", "duration_ms", "request_id", "referer",
            "user_agent");

    private static String line(Format format, AccessEntry e) {
        LineBuffer out = new LineBuffer(16);
        LineFormat.of(format).append(e, out);
        return new String(out.array(), 0, out.size(), StandardCharsets.US_ASCII);
    }

    static List<String> names(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static JsonNode json(AccessEntry e) throws Exception {
        String line = line(Format.JSON, e);
        assertThat(line).endsWith("}\n").containsOnlyOnce("\n");
        return new ObjectMapper().readTree(line);
    }

    @Test
    void jsonHasEveryFieldInOrderWithItsType() throws Exception {
        JsonNode n = json(REQUEST);
        assertThat(names(n)).containsExactlyElementsOf(FIELDS);
        assertThat(n.get("time").asText()).isEqualTo("2026-12-07T01:23:45.678Z");
        assertThat(n.get("client").asText()).isEqualTo("192.0.2.7");
        assertThat(n.get("route").asText()).isEqualTo("web#1");
        assertThat(n.get("server").asText()).isEqualTo("10.0.0.1:8080");
        assertThat(n.get("path").asText()).isEqualTo("/search?q=a%20b");
        assertThat(n.get("status").isInt()).isTrue();
        assertThat(n.get("status").asInt()).isEqualTo(200);
        assertThat(n.get("bytes_in").asLong()).isEqualTo(78);
        assertThat(n.get("bytes_out").asLong()).isEqualTo(1234);
        assertThat(n.get("duration_ms").decimalValue()).isEqualByComparingTo("12.345");
        assertThat(n.get("request_id").asText()).isEqualTo("f00dfeed");
        assertThat(n.get("user_agent").asText()).isEqualTo("curl/8.5.0");
    }

    @Test
    void jsonEscapesWhatAClientSentAndKeepsEachByte() throws Exception {
        String nasty = "a\"b\\c\r\n{\"forged\":1}\u0000\u007f\u00e9";
        AccessEntry e = new AccessEntry(TIME, "::1", "web", "web#1", "app", null, "GET", "/" + nasty, "HTTP/1.0",
                502, 0, 0, 999, "id", null, nasty);
        String line = line(Format.JSON, e);
        assertThat(line).containsOnlyOnce("\n").doesNotContain("\r").matches("\\p{ASCII}*");
        JsonNode n = new ObjectMapper().readTree(line);
        assertThat(n.get("user_agent").asText()).isEqualTo(nasty);
        assertThat(n.get("path").asText()).isEqualTo("/" + nasty);
        assertThat(n.get("server").isNull()).isTrue();
        assertThat(n.get("referer").isNull()).isTrue();
        assertThat(n.get("duration_ms").decimalValue()).isEqualByComparingTo("0.000");
    }

    @Test
    void aTcpConnectionHasNullsWhereItHasNoRequest() throws Exception {
        JsonNode n = json(AccessEntry.tcp(TIME, "192.0.2.7", "db", "db#1", "pg", "10.0.0.2:5432", 100, 2000,
                3_000_000_000L));
        assertThat(names(n)).containsExactlyElementsOf(FIELDS);
        for (String field : List.of("method", "path", "status", "request_id", "referer", "user_agent")) {
            assertThat(n.get(field).isNull()).as(field).isTrue();
        }
        assertThat(n.get("protocol").asText()).isEqualTo("TCP");
        assertThat(n.get("duration_ms").decimalValue()).isEqualByComparingTo("3000");
    }

    /** Apache's combined layout, then the request time and the request id. */
    private static final Pattern COMBINED = Pattern.compile(
            "(\\S+) - - \\[(\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000)] \"([^\"]*)\" (\\d{3}|-) (\\d+) "
                    + "\"([^\"]*)\" \"([^\"]*)\" (\\d+\\.\\d{3}) (\\S+)\n");

    private static Matcher combined(AccessEntry e) {
        Matcher m = COMBINED.matcher(line(Format.COMBINED, e));
        assertThat(m.matches()).as(line(Format.COMBINED, e)).isTrue();
        return m;
    }

    @Test
    void combinedIsApachesLayoutWithRequestTimeAndId() {
        assertThat(line(Format.COMBINED, REQUEST)).isEqualTo("192.0.2.7 - - [07/Dec/2026:01:23:45 +0000] "
                + "\"GET /search?q=a%20b HTTP/1.1\" 200 1234 \"https://example.com/\" \"curl/8.5.0\" 0.012 f00dfeed\n");
        Matcher m = combined(REQUEST);
        assertThat(m.group(4)).isEqualTo("200");
    }

    @Test
    void combinedEscapesQuotesAndControlsAsNginxDoesAndDashesWhatIsMissing() {
        AccessEntry e = new AccessEntry(TIME, "192.0.2.7", "web", "web#1", "app", null, null, null, null, 400, 0, 90,
                0, "r-1", null, "x\" \"y\r\n\u00e9");
        Matcher m = combined(e);
        assertThat(m.group(3)).isEqualTo("-");
        assertThat(m.group(6)).isEqualTo("-");
        assertThat(m.group(7)).isEqualTo("x\\x22 \\x22y\\x0d\\x0a\\xe9");
        assertThat(m.group(8)).isEqualTo("0.000");

        Matcher tcp = combined(AccessEntry.tcp(TIME, "192.0.2.7", "db", "db#1", "pg", null, 1, 2, 1_500_000_000L));
        assertThat(tcp.group(3)).isEqualTo("-");
        assertThat(tcp.group(4)).isEqualTo("-");
        assertThat(tcp.group(5)).isEqualTo("2");
        assertThat(tcp.group(8)).isEqualTo("1.500");
        assertThat(tcp.group(9)).isEqualTo("-");
    }

    @Test
    void timesAcrossSecondsAndYearsAreEachTheirOwn() {
        LineBuffer out = new LineBuffer(8);
        LogTime time = new LogTime();
        time.iso(TIME, out);
        out.ascii(' ');
        time.iso(TIME + 1000, out);
        out.ascii(' ');
        time.combined(0, out);
        assertThat(new String(out.array(), 0, out.size(), StandardCharsets.US_ASCII))
                .isEqualTo("2026-12-07T01:23:45.678Z 2026-12-07T01:23:46.678Z 01/Jan/1970:00:00:00 +0000");
    }
}
