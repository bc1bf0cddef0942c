package dev.fulcrum.core.pool;

import dev.fulcrum.core.HostPort;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The shown state as a pure function of a server's separate flags, case by case. */
class ServerStateTest {

    @Test
    void drainWinsThenFailingChecksThenEjectionThenTheChecks() {
        for (CheckState check : CheckState.values()) {
            for (boolean ejected : new boolean[] {false, true}) {
                assertThat(ServerState.of(true, check, ejected)).isEqualTo(ServerState.DRAINING);
            }
        }
        assertThat(ServerState.of(false, CheckState.DOWN, false)).isEqualTo(ServerState.DOWN);
        assertThat(ServerState.of(false, CheckState.DOWN, true)).isEqualTo(ServerState.DOWN);
        assertThat(ServerState.of(false, CheckState.UP, true)).isEqualTo(ServerState.EJECTED);
        assertThat(ServerState.of(false, CheckState.CHECKING, true)).isEqualTo(ServerState.EJECTED);
        assertThat(ServerState.of(false, CheckState.UP, false)).isEqualTo(ServerState.UP);
        assertThat(ServerState.of(false, CheckState.CHECKING, false)).isEqualTo(ServerState.CHECKING);
    }

    @Test
    void enablingNeverOverridesHealthAndAnEjectionKeepsTheChecksVerdict() {
        Pool pool = new Pool("app", dev.fulcrum.core.balance.Algorithm.ROUND_ROBIN,
                dev.fulcrum.core.balance.HashKey.SOURCE_IP);
        Server s = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
        pool.setCheck(s, CheckState.DOWN);
        pool.setDraining(s, true);
        pool.setDraining(s, false);
        assertThat(s.state()).as("enabled, still down").isEqualTo(ServerState.DOWN);
        assertThat(pool.snapshot().hasServerUp()).isFalse();

        pool.setCheck(s, CheckState.UP);
        pool.setEjectedUntil(s, Instant.parse("2026-11-24T03:00:30Z"));
        assertThat(s.state()).isEqualTo(ServerState.EJECTED);
        assertThat(s.check()).as("the checks' verdict is not overwritten").isEqualTo(CheckState.UP);
        assertThat(pool.snapshot().hasServerUp()).isFalse();
        pool.setEjectedUntil(s, null);
        assertThat(s.state()).isEqualTo(ServerState.UP);
        assertThat(pool.snapshot().hasServerUp()).isTrue();
    }
}
