package dev.fulcrum.core.balance;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cluster's {@code maglev}: the table is built over the shared server set in address order, so
 * nodes that learnt the servers in different orders map every key alike; a server out of rotation
 * here gives its slots to the next server in rotation, and no other key moves.
 */
class SharedMaglevTest {

    private static final List<String> ADDRESSES = List.of("127.0.0.1:9103", "127.0.0.1:9101", "127.0.0.1:9104",
            "127.0.0.1:9102");

    private static Pool sharedPool(List<String> order) {
        Pool pool = new Pool("app", Algorithm.MAGLEV, HashKey.SOURCE_IP);
        pool.useSharedTable();
        for (String a : order) {
            pool.add(HostPort.parse(a), a.endsWith("4") ? 2 : 1, ServerState.UP);
        }
        return pool;
    }

    @Test
    void nodesThatAddedTheServersInAnotherOrderMapEveryKeyAlike() {
        Pool one = sharedPool(ADDRESSES);
        Pool two = sharedPool(ADDRESSES.reversed());
        assertThat(one.snapshot().balancer().tableHash()).isEqualTo(two.snapshot().balancer().tableHash())
                // pinned: the digest of "127.0.0.1:9101=1,127.0.0.1:9102=1,127.0.0.1:9103=1,127.0.0.1:9104=2,"
                .isEqualTo(java.util.HexFormat.of().toHexDigits(
                        Hashing.hash64("127.0.0.1:9101=1,127.0.0.1:9102=1,127.0.0.1:9103=1,127.0.0.1:9104=2,")));
        SplittableRandom random = new SplittableRandom(17);
        for (int i = 0; i < 10_000; i++) {
            long hash = random.nextLong();
            assertThat(one.snapshot().pick(Pick.of(hash, random)).id())
                    .isEqualTo(two.snapshot().pick(Pick.of(hash, random)).id());
        }
        // without a shared table the input order counts (weights take turns in that order)
        Pool local = new Pool("app", Algorithm.MAGLEV, HashKey.SOURCE_IP);
        ADDRESSES.reversed().forEach(a -> local.add(HostPort.parse(a), a.endsWith("4") ? 2 : 1, ServerState.UP));
        assertThat(local.snapshot().balancer().tableHash()).isNotEqualTo(one.snapshot().balancer().tableHash());
    }

    @Test
    void aServerOutOfRotationHereGivesItsKeysToTheNextSlotsAndNoOtherKeyMoves() {
        Pool pool = sharedPool(ADDRESSES);
        Balancer all = pool.snapshot().balancer();
        Server down = pool.find("127.0.0.1:9102").orElseThrow();
        pool.setDraining(down, true);
        Balancer withoutOne = pool.snapshot().balancer();
        assertThat(withoutOne.tableHash()).as("the table itself is shared: unchanged").isEqualTo(all.tableHash());
        assertThat(withoutOne.servers()).hasSize(3);

        Maglev table = (Maglev) all;
        SplittableRandom random = new SplittableRandom(5);
        int moved = 0;
        for (int i = 0; i < 10_000; i++) {
            long hash = random.nextLong();
            Server before = all.pick(Pick.of(hash, random));
            Server after = withoutOne.pick(Pick.of(hash, random));
            assertThat(after).isNotSameAs(down);
            if (before != down) {
                assertThat(after).isSameAs(before);
            } else {
                moved++;
                int slot = (int) Long.remainderUnsigned(hash, Maglev.TABLE_SIZE);
                int next = slot;
                do {
                    next = (next + 1) % Maglev.TABLE_SIZE;
                } while (table.serverInSlot(next) == down);
                assertThat(after).isSameAs(table.serverInSlot(next));
            }
        }
        assertThat(moved).as("about a fifth of the keys (weights 1,1,1,2)").isBetween(1_700, 2_300);
    }
}
