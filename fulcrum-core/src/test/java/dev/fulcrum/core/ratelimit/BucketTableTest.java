package dev.fulcrum.core.ratelimit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The table under the limiter, with burst 1 (tolerance 0): a key holds a bucket until its interval is over. */
class BucketTableTest {

    private static final long INTERVAL = 1_000;

    /** Key i of a window: all share home slot 3 at every size up to 64 slots. */
    private static long sameHome(int i) {
        return (long) i << 6 | 3;
    }

    /** True when the key's bucket is still remembered: burst 1, so a second request is refused. */
    private static boolean remembered(BucketTable table, long key, long now) {
        return table.acquire(key, now, INTERVAL, 0) > 0;
    }

    @Test
    void aWindowFullOfLiveBucketsGrowsTheArrayBeforeEvicting() {
        BucketTable table = new BucketTable(64);
        // home 0 at 16 slots; at 32 the even ones stay at 0, the odd ones move to 16
        for (int i = 0; i < 9; i++) {
            assertThat(table.acquire((long) i << 4, 0, INTERVAL, 0)).isZero();
        }
        assertThat(table.allocatedSlots()).isEqualTo(32);
        assertThat(table.evictions()).isZero();
        for (int i = 0; i < 9; i++) {
            assertThat(remembered(table, (long) i << 4, 1)).as("key %d", i).isTrue();
        }
        assertThat(table.trackedKeys(1)).isEqualTo(9);
    }

    @Test
    void aFullBucketsSlotIsReusedBeforeGrowing() {
        BucketTable table = new BucketTable(64);
        for (int i = 0; i < BucketTable.WINDOW; i++) {
            table.acquire(sameHome(i), 0, i == 3 ? 10 : INTERVAL, 0); // key 3's bucket is full again at 10
        }
        assertThat(table.acquire(sameHome(99), 50, INTERVAL, 0)).isZero();
        assertThat(table.allocatedSlots()).isEqualTo(BucketTable.MIN_SLOTS);
        assertThat(table.evictions()).isZero();
        for (int i = 0; i < BucketTable.WINDOW; i++) {
            assertThat(remembered(table, sameHome(i), 60)).as("key %d", i).isEqualTo(i != 3);
        }
    }

    @Test
    void atTheCapANewKeyEvictsTheLeastIndebtedBucketOfItsWindow() {
        BucketTable table = new BucketTable(BucketTable.MIN_SLOTS);
        for (int i = 0; i < BucketTable.WINDOW; i++) {
            // key 5 took its token first, so its bucket is nearest to full
            table.acquire(sameHome(i), i == 5 ? 0 : 100, INTERVAL, 0);
        }
        assertThat(table.acquire(sameHome(99), 200, INTERVAL, 0)).isZero();
        assertThat(table.evictions()).isEqualTo(1);
        assertThat(table.allocatedSlots()).isEqualTo(BucketTable.MIN_SLOTS);
        assertThat(remembered(table, sameHome(99), 201)).isTrue();
        for (int i = 0; i < BucketTable.WINDOW; i++) {
            if (i != 5) {
                assertThat(remembered(table, sameHome(i), 201)).as("key %d", i).isTrue();
            }
        }
        // key 5 comes back with a full bucket, evicting in turn one of those that took their token at 100
        assertThat(table.acquire(sameHome(5), 202, INTERVAL, 0)).isZero();
        assertThat(table.evictions()).isEqualTo(2);
    }

    @Test
    void keysThatShareAHomeAtEverySizeEvictOnceTheCapIsReached() {
        BucketTable table = new BucketTable(64);
        for (int i = 0; i <= BucketTable.WINDOW; i++) {
            table.acquire(sameHome(i), i, INTERVAL, 0);
        }
        // growing could not separate them: the array went to its cap, then key 0 (least debt) went
        assertThat(table.allocatedSlots()).isEqualTo(64);
        assertThat(table.evictions()).isEqualTo(1);
        assertThat(table.trackedKeys(10)).isEqualTo(BucketTable.WINDOW);
    }

    @Test
    void growingKeepsEachBucketsDebt() {
        BucketTable table = new BucketTable(64);
        for (int i = 0; i < BucketTable.WINDOW; i++) {
            table.acquire((long) i << 4, 0, i == 0 ? 10 : INTERVAL, 0); // key 0's bucket is full at 10
        }
        // a live ninth key at 5 grows the array; key 0 is still live then, so it moves too
        table.acquire(8L << 4, 5, INTERVAL, 0);
        assertThat(table.allocatedSlots()).isEqualTo(32);
        assertThat(table.acquire(1L << 4, 6, INTERVAL, 0)).isEqualTo(INTERVAL - 6);
        assertThat(table.acquire(0, 6, INTERVAL, 0)).isEqualTo(4);
        assertThat(table.trackedKeys(10)).isEqualTo(BucketTable.WINDOW); // all but key 0
    }
}
