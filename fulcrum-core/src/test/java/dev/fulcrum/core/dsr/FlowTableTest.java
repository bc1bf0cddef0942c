package dev.fulcrum.core.dsr;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlowTableTest {

    private static final long IDLE = 1_000;

    /** Flow i: a distinct key; all of them share one hash (one window) unless said otherwise. */
    private static long high(int i) {
        return 0x0a000000_0a630064L + ((long) i << 32);
    }

    private static long low(int i) {
        return FlowKey.low(1024 + i, 80, Ipv4Frame.TCP);
    }

    @Test
    void aNewFlowIsClaimedThenFoundWithItsTarget() {
        FlowTable table = new FlowTable(64);
        int claimed = table.lookupOrInsert(high(1), low(1), 42, 0, IDLE);
        assertThat(claimed).isNegative();
        int entry = -claimed - 1;
        assertThat(table.target(entry)).isEqualTo(FlowTable.NO_TARGET);
        table.setTarget(entry, 7);

        assertThat(table.lookupOrInsert(high(1), low(1), 42, 10, IDLE)).isEqualTo(entry);
        assertThat(table.target(entry)).isEqualTo(7);
    }

    @Test
    void flowsSharingAWindowKeepTheirOwnEntries() {
        FlowTable table = new FlowTable(64);
        for (int i = 0; i < FlowTable.WINDOW; i++) {
            int entry = -table.lookupOrInsert(high(i), low(i), 0, 0, IDLE) - 1;
            table.setTarget(entry, 100 + i);
        }
        for (int i = 0; i < FlowTable.WINDOW; i++) {
            int entry = table.lookupOrInsert(high(i), low(i), 0, 1, IDLE);
            assertThat(entry).as("flow %d", i).isNotNegative();
            assertThat(table.target(entry)).isEqualTo(100 + i);
        }
        assertThat(table.evictions()).isZero();
    }

    @Test
    void aFlowIdleLongerThanItsTimeoutComesBackAsNew() {
        FlowTable table = new FlowTable(64);
        int entry = -table.lookupOrInsert(high(1), low(1), 5, 0, IDLE) - 1;
        table.setTarget(entry, 3);
        assertThat(table.lookupOrInsert(high(1), low(1), 5, IDLE, IDLE)).isEqualTo(entry); // exactly at the deadline: alive
        assertThat(table.lookupOrInsert(high(1), low(1), 5, 2 * IDLE + 1, IDLE)).isEqualTo(-entry - 1);
        assertThat(table.target(entry)).isEqualTo(FlowTable.NO_TARGET);
    }

    @Test
    void everyPacketPushesTheDeadlineOut() {
        FlowTable table = new FlowTable(64);
        int entry = -table.lookupOrInsert(high(1), low(1), 5, 0, IDLE) - 1;
        table.setTarget(entry, 3);
        for (long now = 900; now < 10_000; now += 900) {
            assertThat(table.lookupOrInsert(high(1), low(1), 5, now, IDLE)).as("at %d", now).isEqualTo(entry);
        }
    }

    @Test
    void aFullWindowReusesAnExpiredEntryBeforeEvicting() {
        FlowTable table = new FlowTable(FlowTable.WINDOW);
        for (int i = 0; i < FlowTable.WINDOW; i++) {
            table.setTarget(-table.lookupOrInsert(high(i), low(i), 0, 0, i == 3 ? 10 : IDLE) - 1, i);
        }
        int claimed = table.lookupOrInsert(high(99), low(99), 0, 50, IDLE);
        assertThat(claimed).isNegative();
        assertThat(table.evictions()).isZero();
        // flow 3 (expired at 10) made room; the others are all still there
        for (int i = 0; i < FlowTable.WINDOW; i++) {
            if (i != 3) {
                assertThat(table.lookupOrInsert(high(i), low(i), 0, 60, IDLE)).as("flow %d", i).isNotNegative();
            }
        }
        assertThat(table.lookupOrInsert(high(3), low(3), 0, 60, IDLE)).isNegative();
    }

    @Test
    void aFullWindowWithNothingExpiredEvictsTheFlowNearestItsDeadline() {
        FlowTable table = new FlowTable(FlowTable.WINDOW);
        for (int i = 0; i < FlowTable.WINDOW; i++) {
            // flow 5 was seen first, so its deadline comes first
            table.setTarget(-table.lookupOrInsert(high(i), low(i), 0, i == 5 ? 0 : 100, IDLE) - 1, i);
        }
        int newcomer = -table.lookupOrInsert(high(99), low(99), 0, 200, IDLE) - 1;
        table.setTarget(newcomer, 99);
        assertThat(table.evictions()).isEqualTo(1);
        assertThat(table.lookupOrInsert(high(99), low(99), 0, 201, IDLE)).isEqualTo(newcomer);
        for (int i = 0; i < FlowTable.WINDOW; i++) {
            if (i != 5) {
                assertThat(table.lookupOrInsert(high(i), low(i), 0, 201, IDLE)).as("flow %d", i).isNotNegative();
            }
        }
        assertThat(table.lookupOrInsert(high(5), low(5), 0, 202, IDLE)).isNegative(); // it was the one evicted
        assertThat(table.evictions()).isEqualTo(2); // and coming back it evicted another
    }

    @Test
    void aForgottenEntryIsFreeAndItsFlowNewAgain() {
        FlowTable table = new FlowTable(64);
        int entry = -table.lookupOrInsert(high(1), low(1), 5, 0, IDLE) - 1;
        table.forget(entry, 0);
        assertThat(table.lookupOrInsert(high(1), low(1), 5, 0, IDLE)).isEqualTo(-entry - 1);
    }

    @Test
    void deadlinesSurviveTheNanoTimeWrap() {
        FlowTable table = new FlowTable(64);
        long now = Long.MAX_VALUE - 10;
        int entry = -table.lookupOrInsert(high(1), low(1), 5, now, IDLE) - 1;
        table.setTarget(entry, 3);
        assertThat(table.lookupOrInsert(high(1), low(1), 5, now + 500, IDLE)).isEqualTo(entry);
        assertThat(table.lookupOrInsert(high(1), low(1), 5, now + 500 + IDLE + 1, IDLE)).isNegative();
    }

    @Test
    void holdsItsCapacityOfFlowsSpreadByHash() {
        int capacity = 1 << 12;
        FlowTable table = new FlowTable(capacity);
        int fill = capacity / 2;
        for (int i = 0; i < fill; i++) {
            table.setTarget(-table.lookupOrInsert(high(i), low(i), FlowKey.hash(high(i), low(i)), 0, IDLE) - 1, i);
        }
        int found = 0;
        for (int i = 0; i < fill; i++) {
            int entry = table.find(high(i), low(i), FlowKey.hash(high(i), low(i)), 1);
            if (entry >= 0 && table.target(entry) == i) {
                found++;
            }
        }
        // at half load a window of 8 overflows for a handful of flows at most
        assertThat(found).isGreaterThan(fill - fill / 100);
        assertThat(table.evictions()).isEqualTo(fill - found); // each eviction lost exactly one flow
    }

    @Test
    void capacityMustBeAPowerOfTwo() {
        assertThatThrownBy(() -> new FlowTable(100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FlowTable(4)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new FlowTable(1 << 10).capacity()).isEqualTo(1024);
    }
}
