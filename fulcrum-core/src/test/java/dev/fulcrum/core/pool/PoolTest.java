package dev.fulcrum.core.pool;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.WeightedServer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PoolTest {

    private final Pool pool = new Pool("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP);

    private static java.util.List<Server> inRotation(PoolSnapshot snapshot) {
        return snapshot.balancer().servers().stream().map(WeightedServer::server).toList();
    }

    @Test
    void addPublishesANewSnapshotWithAHigherVersion() {
        PoolSnapshot before = pool.snapshot();
        Server s = pool.add(HostPort.parse("127.0.0.1:9101"), 3, ServerState.UP);
        PoolSnapshot after = pool.snapshot();
        assertThat(after.version()).isGreaterThan(before.version());
        assertThat(after.servers()).containsExactly(s);
        assertThat(inRotation(after)).containsExactly(s);
        assertThat(after.balancer().servers().getFirst().weight()).isEqualTo(3);
        assertThat(before.servers()).isEmpty(); // snapshots are immutable
        assertThat(before.hasServerUp()).isFalse();
    }

    @Test
    void drainingLeavesRotationButStaysRegistered() {
        Server a = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
        Server b = pool.add(HostPort.parse("127.0.0.1:9102"), 1, ServerState.UP);
        assertThat(pool.setDraining(a, true)).isTrue();
        PoolSnapshot snapshot = pool.snapshot();
        assertThat(snapshot.servers()).containsExactly(a, b);
        assertThat(inRotation(snapshot)).containsExactly(b);
        assertThat(a.state()).isEqualTo(ServerState.DRAINING);
        assertThat(snapshot.serversInRotation()).isEqualTo(1);
    }

    @Test
    void aRemovalIsAFlagOfTheServerUntilItIsCancelledOrDone() {
        Server a = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
        java.time.Instant deadline = java.time.Instant.parse("2026-11-24T03:00:05Z");
        assertThat(pool.startRemoval(a, deadline)).isTrue();
        assertThat(pool.startRemoval(a, deadline.plusSeconds(9))).as("the first deadline holds").isFalse();
        assertThat(a.removalDeadline()).isEqualTo(deadline);
        assertThat(a.state()).isEqualTo(ServerState.DRAINING);
        assertThat(inRotation(pool.snapshot())).isEmpty();

        assertThat(pool.cancelRemoval(a)).isTrue();
        assertThat(a.isBeingRemoved()).isFalse();
        assertThat(a.state()).isEqualTo(ServerState.UP);
        assertThat(inRotation(pool.snapshot())).containsExactly(a);
        assertThat(pool.cancelRemoval(a)).as("nothing to cancel").isFalse();

        pool.startRemoval(a, deadline);
        pool.remove(a);
        assertThat(a.isRemoved()).isTrue();
        assertThat(a.isBeingRemoved()).as("done, no longer pending").isFalse();
    }

    @Test
    void duplicateAddressIsRejected() {
        pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
        long version = pool.snapshot().version();
        assertThatThrownBy(() -> pool.add(HostPort.parse("127.0.0.1:9101"), 2, ServerState.UP))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("127.0.0.1:9101");
        assertThat(pool.snapshot().version()).isEqualTo(version);
    }

    @Test
    void downServerLeavesRotationAndComesBack() {
        Server a = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
        pool.setCheck(a, CheckState.DOWN);
        assertThat(pool.snapshot().hasServerUp()).isFalse();
        assertThat(pool.snapshot().servers()).containsExactly(a);
        pool.setCheck(a, CheckState.UP);
        assertThat(inRotation(pool.snapshot())).containsExactly(a);
    }

    @Test
    void weightZeroLeavesRotation() {
        Server a = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
        Server b = pool.add(HostPort.parse("127.0.0.1:9102"), 1, ServerState.UP);
        pool.setWeight(a, 0);
        assertThat(inRotation(pool.snapshot())).containsExactly(b);
        assertThat(pool.snapshot().servers()).containsExactly(a, b);
    }

    @Test
    void checkingServerIsNotInRotationUntilUp() {
        Server a = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.CHECKING);
        assertThat(pool.snapshot().hasServerUp()).isFalse();
        pool.setCheck(a, CheckState.UP);
        assertThat(pool.snapshot().hasServerUp()).isTrue();
    }

    @Test
    void removedServerIsForgottenAndMarked() {
        Server a = pool.add(HostPort.parse("127.0.0.1:9101"), 1, ServerState.UP);
        assertThat(pool.remove(a)).isTrue();
        assertThat(a.isRemoved()).isTrue();
        assertThat(pool.snapshot().servers()).isEmpty();
        assertThat(pool.find("127.0.0.1:9101")).isEmpty();
    }
}
