package dev.fulcrum.core.health;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class SlowStartTest {

    private static final Duration WINDOW = Duration.ofSeconds(10);

    @Test
    void rampPinnedForWeight100Over10s() {
        int[] weights = IntStream.rangeClosed(0, 11)
                .map(s -> SlowStart.effectiveWeight(100, Duration.ofSeconds(s), WINDOW)).toArray();
        assertThat(weights).containsExactly(10, 19, 28, 37, 46, 55, 64, 73, 82, 91, 100, 100);
    }

    @Test
    void smallWeightsNeverDropBelowOne() {
        assertThat(SlowStart.effectiveWeight(1, Duration.ZERO, WINDOW)).isEqualTo(1);
        assertThat(SlowStart.effectiveWeight(5, Duration.ZERO, WINDOW)).isEqualTo(1);
        assertThat(SlowStart.effectiveWeight(5, Duration.ofSeconds(5), WINDOW)).isEqualTo(2);
        assertThat(SlowStart.effectiveWeight(256, Duration.ofMillis(9_999), WINDOW)).isEqualTo(255);
    }

    @Test
    void offOrWeightZero() {
        assertThat(SlowStart.effectiveWeight(7, Duration.ZERO, Duration.ZERO)).isEqualTo(7);
        assertThat(SlowStart.effectiveWeight(0, Duration.ofSeconds(3), WINDOW)).isZero();
        assertThat(SlowStart.effectiveWeight(8, Duration.ofSeconds(-1), WINDOW)).isEqualTo(1);
        assertThat(SlowStart.ramping(Duration.ofSeconds(3), WINDOW)).isTrue();
        assertThat(SlowStart.ramping(WINDOW, WINDOW)).isFalse();
        assertThat(SlowStart.ramping(Duration.ZERO, Duration.ZERO)).isFalse();
    }
}
