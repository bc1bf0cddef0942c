package dev.fulcrum.server.demo;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BusyWindowTest {

    private static final long S = 1_000_000_000L;
    private static final long MS = 1_000_000L;

    @Test
    void idleWorkersReportZero() {
        BusyWindow window = new BusyWindow(5 * S, 1);
        assertThat(window.usage(100 * S)).isZero();
    }

    @Test
    void aFinishedBurstCountsWhileInsideTheWindowThenSlidesOut() {
        BusyWindow window = new BusyWindow(5 * S, 1);
        BusyWindow.Burst burst = window.begin(10 * S);
        window.end(burst, 11 * S);                                  // busy 1 s of 5
        assertThat(window.usage(11 * S)).isCloseTo(0.2, within(1e-9));
        assertThat(window.usage(15 * S)).isCloseTo(0.2, within(1e-9));
        assertThat(window.usage(15_500 * MS)).isCloseTo(0.1, within(1e-9)); // half of it slid out
        assertThat(window.usage(16 * S)).isZero();
    }

    @Test
    void aRunningBurstCountsUpToNow() {
        BusyWindow window = new BusyWindow(5 * S, 1);
        window.begin(10 * S);
        assertThat(window.usage(12 * S)).isCloseTo(0.4, within(1e-9));
        assertThat(window.usage(20 * S)).isEqualTo(1.0);           // busy for the whole window
    }

    @Test
    void usageIsSharedOverAllWorkers() {
        BusyWindow window = new BusyWindow(5 * S, 4);
        BusyWindow.Burst a = window.begin(0);
        BusyWindow.Burst b = window.begin(0);
        window.end(a, 5 * S);
        window.end(b, 5 * S);
        assertThat(window.usage(5 * S)).isCloseTo(0.5, within(1e-9)); // 2 of 4 workers busy throughout
    }

    @Test
    void endingABurstTwiceCountsItOnce() {
        BusyWindow window = new BusyWindow(5 * S, 1);
        BusyWindow.Burst burst = window.begin(0);
        window.end(burst, S);
        window.end(burst, 2 * S);
        assertThat(window.usage(2 * S)).isCloseTo(0.2, within(1e-9));
    }
}
