package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MaglevTest {

    private static final List<String> THREE = List.of("127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103");

    private static int[] ones(int n) {
        int[] w = new int[n];
        Arrays.fill(w, 1);
        return w;
    }

    private static int[] slotsPerBackend(MaglevTable table, int backends) {
        int[] counts = new int[backends];
        for (int slot = 0; slot < table.size(); slot++) {
            counts[table.entry(slot)]++;
        }
        return counts;
    }

    @Test
    void papersSmallExampleWithSevenSlots() {
        // NSDI 2016, Table 1: B0 offset 3 skip 4, B1 offset 0 skip 2, B2 offset 3 skip 1
        // permutations: B0 3 0 4 1 5 2 6 | B1 0 2 4 6 1 3 5 | B2 3 4 5 6 0 1 2
        MaglevTable table = MaglevTable.populate(new int[]{3, 0, 3}, new int[]{4, 2, 1}, ones(3), 7);
        int[] entries = new int[7];
        for (int slot = 0; slot < 7; slot++) {
            entries[slot] = table.entry(slot);
        }
        assertThat(entries).containsExactly(1, 0, 1, 0, 2, 2, 0); // B1 B0 B1 B0 B2 B2 B0
    }

    @Test
    void firstTwentySlotsForThreeLoopbackServersArePinned() {
        MaglevTable table = MaglevTable.build(THREE, ones(3), 65537);
        int[] first = new int[20];
        for (int slot = 0; slot < 20; slot++) {
            first[slot] = table.lookup(slot);
        }
        assertThat(first).containsExactly(2, 1, 2, 0, 2, 1, 2, 1, 2, 0, 1, 1, 2, 0, 1, 1, 2, 2, 0, 1);
    }

    @Test
    void wholeTableMatchesAPlainTranscriptionOfThePapersPseudocode() {
        MaglevTable table = MaglevTable.build(THREE, ones(3), 65537);
        int[] expected = paperPopulate(THREE, 65537);
        for (int slot = 0; slot < 65537; slot++) {
            assertThat(table.entry(slot)).as("slot %d", slot).isEqualTo(expected[slot]);
        }
    }

    /**
     * Pseudocode 1 of the paper, written out with full permutation arrays and the pinned hashes
     * (offset = h1 mod M, skip = h2 mod (M-1) + 1, h1 = hash64(name), h2 = fmix64(h1 ^ seed)).
     */
    private static int[] paperPopulate(List<String> names, int m) {
        int n = names.size();
        long[][] permutation = new long[n][m];
        for (int i = 0; i < n; i++) {
            long h1 = Hashing.hash64(names.get(i));
            long offset = Long.remainderUnsigned(h1, m);
            long skip = Long.remainderUnsigned(Hashing.fmix64(h1 ^ 0x9E3779B97F4A7C15L), m - 1) + 1;
            for (int j = 0; j < m; j++) {
                permutation[i][j] = (offset + (long) j * skip) % m;
            }
        }
        int[] next = new int[n];
        int[] entry = new int[m];
        Arrays.fill(entry, -1);
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                int c = (int) permutation[i][next[i]];
                while (entry[c] >= 0) {
                    next[i]++;
                    c = (int) permutation[i][next[i]];
                }
                entry[c] = i;
                next[i]++;
                filled++;
                if (filled == m) {
                    return entry;
                }
            }
        }
    }

    @Test
    void hundredEqualServersOwnWithinOnePercentOfAnEvenShareOfSlots() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            names.add("127.0.0.1:" + (9101 + i));
        }
        int[] counts = slotsPerBackend(MaglevTable.build(names, ones(100), 65537), 100);
        // 65537 / 100 = 655.37; +-1 % is 648.8 .. 661.9
        assertThat(Arrays.stream(counts).min().orElseThrow()).isGreaterThanOrEqualTo(649);
        assertThat(Arrays.stream(counts).max().orElseThrow()).isLessThanOrEqualTo(661);
    }

    @Test
    void hundredEqualServersGetRoughlyEvenPicksOverRandomKeys() {
        List<WeightedServer> servers = Servers.equal(100);
        Maglev maglev = new Maglev(servers);
        SplittableRandom keys = new SplittableRandom(42);
        Map<Server, Integer> counts = Servers.count(servers, 100_000, () -> maglev.pick(Pick.of(keys.nextLong(), keys)));
        // 1000 expected each; binomial sd ~31.5, so +-15 % is nearly 5 sd
        assertThat(counts.values()).allSatisfy(c -> assertThat(c).isBetween(850, 1150));
    }

    @Test
    void weightedTableSlotsFollowWeights() {
        MaglevTable table = MaglevTable.build(THREE.subList(0, 2), new int[]{1, 3}, 65537);
        int[] counts = slotsPerBackend(table, 2);
        // 1 : 3 of 65537 is 16384.25 : 49152.75; turns are whole, so off by at most a slot or two
        assertThat(counts[0]).isBetween(16383, 16386);
        assertThat(counts[1]).isEqualTo(65537 - counts[0]);
    }

    @Test
    void sameKeySameServerAndRetriesWalkToTheNextSlot() {
        List<WeightedServer> servers = Servers.equal(3);
        Maglev maglev = new Maglev(servers);
        SplittableRandom random = new SplittableRandom(42);
        long key = Hashing.hash64("198.51.100.7");
        Server first = maglev.pick(Pick.of(key, random));
        assertThat(maglev.pick(Pick.of(key, random))).isSameAs(first);
        int slot = (int) Long.remainderUnsigned(key, Maglev.TABLE_SIZE);
        Server expectedRetry = null;
        for (int s = slot + 1; expectedRetry == null; s++) {
            Server candidate = maglev.serverInSlot(s % Maglev.TABLE_SIZE);
            if (candidate != first) {
                expectedRetry = candidate;
            }
        }
        assertThat(maglev.pick(Pick.of(key, random).excluding(first))).isSameAs(expectedRetry);
    }

    @Test
    void aServerOwningNoSlotIsStillPickedWhenEveryOtherIsExcluded() {
        // 299 servers at weight 256 fill the table in ~219 rounds; weight 1 earns a turn every 256
        int[] weights = new int[300];
        Arrays.fill(weights, 256);
        weights[299] = 1;
        List<WeightedServer> servers = Servers.weighted(weights);
        Maglev maglev = new Maglev(servers);
        Server light = servers.get(299).server();
        for (int slot = 0; slot < Maglev.TABLE_SIZE; slot++) {
            assertThat(maglev.serverInSlot(slot)).isNotSameAs(light);
        }
        Pick pick = Pick.of(Hashing.hash64("198.51.100.7"), new SplittableRandom(42));
        for (int i = 0; i < 299; i++) {
            pick = pick.excluding(servers.get(i).server());
        }
        assertThat(maglev.pick(pick)).isSameAs(light);
        assertThat(maglev.pick(pick.excluding(light))).isNull();
    }

    @Test
    void rejectsMismatchedOrZeroWeights() {
        assertThatThrownBy(() -> MaglevTable.build(THREE, ones(2), 65537))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 names but 2 weights");
        assertThatThrownBy(() -> MaglevTable.build(THREE, new int[]{1, 0, 1}, 65537))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below 1");
        assertThatThrownBy(() -> MaglevTable.build(List.of(), new int[0], 65537))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsNonPrimeSizes() {
        assertThatThrownBy(() -> MaglevTable.build(THREE, ones(3), 65536))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prime");
    }
}
