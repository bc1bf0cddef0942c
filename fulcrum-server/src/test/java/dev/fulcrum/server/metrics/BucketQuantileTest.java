package dev.fulcrum.server.metrics;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BucketQuantileTest {

    private static final double[] BOUNDS = {0.001, 0.01, 0.1, Double.POSITIVE_INFINITY};

    @Test
    void interpolatesInsideTheBucketHoldingTheRank() {
        // 100 requests: 90 under 1 ms, 10 between 1 and 10 ms; rank 99 is the 9th of those 10
        double p99 = BucketQuantile.estimate(BOUNDS, new long[]{90, 10, 0, 0}, 0.99);

        assertThat(p99).isCloseTo(0.001 + 0.009 * 9 / 10, within(1e-12));
    }

    @Test
    void theFirstBucketStartsAtZero() {
        assertThat(BucketQuantile.estimate(BOUNDS, new long[]{4, 0, 0, 0}, 0.5)).isCloseTo(0.0005, within(1e-12));
    }

    @Test
    void aRankInTheInfiniteBucketAnswersTheHighestFiniteBound() {
        assertThat(BucketQuantile.estimate(BOUNDS, new long[]{1, 0, 0, 99}, 0.99)).isEqualTo(0.1);
    }

    @Test
    void noRequestsMeansNoEstimate() {
        assertThat(BucketQuantile.estimate(BOUNDS, new long[4], 0.99)).isNaN();
    }
}
