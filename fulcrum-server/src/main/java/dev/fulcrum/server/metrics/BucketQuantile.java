package dev.fulcrum.server.metrics;

/**
 * Estimates a quantile from classic histogram buckets the way Prometheus' {@code histogram_quantile}
 * does: find the bucket holding the rank, then interpolate linearly inside it (the first bucket
 * starts at 0). A rank in the {@code +Inf} bucket answers the highest finite bound, since nothing
 * better is known. Pure and thread-safe.
 */
final class BucketQuantile {

    private BucketQuantile() {
    }

    /**
     * @param upperBounds ascending bucket upper bounds, the last one may be {@code +Inf}
     * @param counts      per-bucket (not cumulative) counts, same length as {@code upperBounds}
     * @param q           the quantile, 0..1
     * @return the estimate in the bounds' unit, or {@code NaN} when the buckets are empty
     */
    static double estimate(double[] upperBounds, long[] counts, double q) {
        if (upperBounds.length != counts.length) {
            throw new IllegalArgumentException("bounds and counts differ in length");
        }
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total <= 0) {
            return Double.NaN;
        }
        double rank = q * total;
        long below = 0;
        for (int i = 0; i < counts.length; i++) {
            long inBucket = counts[i];
            if (inBucket > 0 && below + inBucket >= rank) {
                double lower = i == 0 ? 0 : upperBounds[i - 1];
                double upper = upperBounds[i];
                if (Double.isInfinite(upper)) {
                    return lower;
                }
                return lower + (upper - lower) * (rank - below) / inBucket;
            }
            below += inBucket;
        }
        return upperBounds[upperBounds.length - 1];
    }
}
