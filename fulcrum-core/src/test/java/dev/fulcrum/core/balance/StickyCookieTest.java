package dev.fulcrum.core.balance;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StickyCookieTest {

    private final Pool pool = new Pool("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP);
    private final Server first = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
    private final Server second = pool.add(HostPort.parse("127.0.0.1:9102"), 1, ServerState.UP);

    @Test
    void valueIsSixteenHexDigitsThatDoNotSpellTheAddress() {
        String value = StickyCookie.valueFor(first);
        assertThat(value).matches("[0-9a-f]{16}").doesNotContain("127").doesNotContain("9101");
        // stable across processes: the same server always gets the same value
        assertThat(value).isEqualTo("83deaf08aa02df50");
        assertThat(StickyCookie.valueFor(second)).isNotEqualTo(value);
    }

    @Test
    void valueRoundTripsToTheServer() {
        assertThat(StickyCookie.find(pool.snapshot(), StickyCookie.valueFor(first))).isSameAs(first);
        assertThat(StickyCookie.find(pool.snapshot(), StickyCookie.valueFor(second))).isSameAs(second);
    }

    @Test
    void serverOutOfRotationIsNotFound() {
        String value = StickyCookie.valueFor(second);
        pool.setDraining(second, true);
        assertThat(StickyCookie.find(pool.snapshot(), value)).isNull();
        pool.setDraining(second, false);
        pool.setCheck(second, CheckState.DOWN);
        assertThat(StickyCookie.find(pool.snapshot(), value)).isNull();
    }

    @Test
    void serverOfAnotherPoolIsNotFound() {
        Server stranger = new Server(HostPort.parse("127.0.0.1:9199"), 1, ServerState.UP);
        assertThat(StickyCookie.find(pool.snapshot(), StickyCookie.valueFor(stranger))).isNull();
    }

    @Test
    void malformedValuesAreNotFound() {
        assertThat(StickyCookie.find(pool.snapshot(), null)).isNull();
        assertThat(StickyCookie.find(pool.snapshot(), "")).isNull();
        assertThat(StickyCookie.find(pool.snapshot(), "83deaf08aa02df5")).isNull();
        assertThat(StickyCookie.find(pool.snapshot(), "83deaf08aa02df50a")).isNull();
        assertThat(StickyCookie.find(pool.snapshot(), "83deaf08aa02df5z")).isNull();
        assertThat(StickyCookie.find(pool.snapshot(), "127.0.0.1:9101")).isNull();
    }
}
