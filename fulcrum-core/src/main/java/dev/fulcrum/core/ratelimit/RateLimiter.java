package dev.fulcrum.core.ratelimit;

/**
 * A route's {@code rate-limit}: one token bucket per key, refilled at {@code requests-per-second}
 * and holding at most {@code burst} tokens; a request takes one, and a request that finds none is
 * answered 429 with {@code Retry-After}. One limiter per route, shared by all event loops (the
 * limit is for the whole process).
 *
 * <p><b>Per request</b> the HTTP layer calls {@code acquire(keys.of(value), System.nanoTime())}
 * with the route's key value (the client's address, or the named header's value;
 * {@link RateLimitKeys}) and sends the request on when it returns {@link #ALLOWED}, else answers
 * 429 with {@code Retry-After:} the number returned. A refused request takes no token, so a client
 * that keeps retrying gets in at the rate, no faster and no slower.
 *
 * <p><b>Exact in integer nanos.</b> Each bucket is one long, the time it is full again (GCRA):
 * {@code burst} requests pass at once, then one per {@code interval = 1s / requests-per-second}
 * (rounded to the nanosecond). Time is the caller's monotonic nanos ({@link System#nanoTime()}),
 * counted from {@code originNanos}; a time before the origin counts as the origin.
 *
 * <p><b>Bounded memory.</b> At most {@code maxKeys} buckets, 16 bytes each, in {@value #SEGMENTS}
 * segments that each grow on demand from 16 slots up to their share of {@code maxKeys}: about
 * 20 KiB per route before traffic, 2 MiB at the default cap of 131072 keys, whatever the number of
 * distinct keys seen (the tests send a million). A key whose bucket is full again is forgotten,
 * so memory follows the keys active within the last {@code burst × interval}. When a segment is
 * at its cap, a new key evicts the bucket of its window with the least debt ({@link BucketTable}):
 * under a flood of new keys (spoofed headers, a botnet's addresses) the limiter keeps limiting
 * the keys that are over their limit and may forget light ones, which then get their burst again
 * — an evicted client gains back the tokens it still owed, and it owed the least of its window.
 * The alternatives were to refuse every new client while full (an attacker locks everyone out)
 * or to let new keys through untracked (the flood escapes the limit).
 *
 * <p><b>Threads and cost.</b> Safe for any number of threads. A key's segment (its top 6 bits)
 * has a lock held for one window scan; distinct keys meet on one lock with probability 1/64, the
 * same key always does. No decision allocates. Per decision ({@code RateLimiterBenchmark}, JDK 25,
 * a 2-core machine busy with other builds, so upper figures): 15-23 ns for a hot key from one
 * thread, 36-53 ns from two threads at once (the lock moves between cores); 19-30 ns over 65 536
 * live keys (a cache miss); 59-68 ns under a flood eight times the cap, every decision evicting.
 * Add the key's hash ({@link RateLimitKeys}).
 */
public final class RateLimiter {

    /** What {@link #acquire} returns when the request may pass. */
    public static final long ALLOWED = 0;
    /** Keys tracked per route unless the caller says otherwise: 2 MiB of buckets. */
    public static final int DEFAULT_MAX_KEYS = 1 << 17;

    static final int SEGMENTS = 64;
    private static final int SEGMENT_SHIFT = Long.SIZE - Integer.numberOfTrailingZeros(SEGMENTS);
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** Bucket times stay below this many nanos past now: no overflow for a century of uptime. */
    private static final long MAX_DEBT = 1L << 62;

    private final long interval;
    private final long tolerance;
    private final long originNanos;
    private final BucketTable[] segments = new BucketTable[SEGMENTS];

    /**
     * @param requestsPerSecond the refill rate, > 0 (fractions allowed: 0.5 is one request every 2 s)
     * @param burst             the bucket's size: requests that may pass at once, >= 1
     * @param maxKeys           the cap on tracked keys: a power of two from 1024 to 2^26
     * @param originNanos       any time on the caller's nanos scale not after the first call
     */
    public RateLimiter(double requestsPerSecond, int burst, int maxKeys, long originNanos) {
        if (!(requestsPerSecond > 0) || requestsPerSecond > NANOS_PER_SECOND) { // NaN fails the first test
            throw new IllegalArgumentException("requests-per-second " + requestsPerSecond + " must be > 0 and <= 10^9");
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst " + burst + " must be >= 1");
        }
        if (maxKeys < SEGMENTS * BucketTable.MIN_SLOTS || Integer.bitCount(maxKeys) != 1 || maxKeys > 1 << 26) {
            throw new IllegalArgumentException("max keys " + maxKeys + " must be a power of two from "
                    + SEGMENTS * BucketTable.MIN_SLOTS + " to 2^26");
        }
        this.interval = Math.max(1, Math.round(NANOS_PER_SECOND / requestsPerSecond));
        if (burst > MAX_DEBT / interval) {
            throw new IllegalArgumentException("burst " + burst + " at " + requestsPerSecond
                    + " requests per second takes more than a century to refill");
        }
        this.tolerance = (burst - 1) * interval;
        this.originNanos = originNanos;
        for (int i = 0; i < SEGMENTS; i++) {
            segments[i] = new BucketTable(maxKeys / SEGMENTS);
        }
    }

    /** A limiter tracking up to {@link #DEFAULT_MAX_KEYS} keys. */
    public RateLimiter(double requestsPerSecond, int burst, long originNanos) {
        this(requestsPerSecond, burst, DEFAULT_MAX_KEYS, originNanos);
    }

    /**
     * Takes a token from {@code key}'s bucket.
     *
     * @param key      from {@link RateLimitKeys#of}: well mixed, as the segment and slot are its bits
     * @param nowNanos the caller's monotonic nanos ({@link System#nanoTime()})
     * @return {@link #ALLOWED}, or the whole seconds until a token is available, rounded up, >= 1:
     *         the {@code Retry-After} value
     */
    public long acquire(long key, long nowNanos) {
        long wait = segment(key).acquire(key, sinceOrigin(nowNanos), interval, tolerance);
        return wait == 0 ? ALLOWED : (wait + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND;
    }

    /** Keys whose bucket is not full at {@code nowNanos} (a gauge; scans every slot, under each segment's lock). */
    public int trackedKeys(long nowNanos) {
        long now = sinceOrigin(nowNanos);
        int n = 0;
        for (BucketTable s : segments) {
            n += s.trackedKeys(now);
        }
        return n;
    }

    /** Buckets not yet full dropped to make room for a new key, since construction (a counter). */
    public long evictions() {
        long n = 0;
        for (BucketTable s : segments) {
            n += s.evictions();
        }
        return n;
    }

    /** Bucket slots allocated now, never more than {@code maxKeys}: memory is 16 bytes per slot. */
    int allocatedSlots() {
        int n = 0;
        for (BucketTable s : segments) {
            n += s.allocatedSlots();
        }
        return n;
    }

    private BucketTable segment(long key) {
        return segments[(int) (key >>> SEGMENT_SHIFT)];
    }

    private long sinceOrigin(long nowNanos) {
        return Math.max(0, nowNanos - originNanos);
    }
}
