package dev.fulcrum.core.vrrp;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class VrrpTimersTest {

    /**
     * RFC 5798 §6.1 by hand: skew = ((256 − priority) × interval) / 256, master down =
     * 3 × interval + skew. E.g. priority 100 at 10 cs: (156 × 10) / 256 = 6.09375 cs = 60.9375 ms,
     * master down 300 + 60.9375 = 360.9375 ms.
     */
    @ParameterizedTest(name = "priority {0}, interval {1} cs: skew {2} ns, master down {3} ns")
    @CsvSource({
            // advert-interval 100ms, the pair
            "150,   10,     41406250,     341406250",
            "100,   10,     60937500,     360937500",
            // the extremes of priority at 100ms
            "255,   10,       390625,     300390625",
            "  1,   10,     99609375,     399609375",
            // advert-interval 1s (the config default)
            "150,  100,    414062500,    3414062500",
            "100,  100,    609375000,    3609375000",
            // 10ms: whole-centisecond arithmetic would give skew 0 here for both
            "150,    1,      4140625,      34140625",
            "100,    1,      6093750,      36093750",
            // 40.95s and priority 1: 255 × 4095 × 10^7 / 256 = 40790039062.5, rounded down
            "  1, 4095,  40790039062,  163640039062",
    })
    void skewAndMasterDownAreExact(int priority, int intervalCentis, long skewNanos, long masterDownNanos) {
        assertThat(VrrpTimers.skewNanos(priority, intervalCentis)).isEqualTo(skewNanos);
        assertThat(VrrpTimers.masterDownNanos(priority, intervalCentis)).isEqualTo(masterDownNanos);
    }

    @ParameterizedTest
    @CsvSource({"360937500, 360.9375 ms", "100000000, 100 ms", "390625, 0.390625 ms"})
    void millisForReasons(long nanos, String text) {
        assertThat(VrrpTimers.millis(nanos)).isEqualTo(text);
    }
}
