package dev.fulcrum.core.ratelimit;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RateLimiterTest {

    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private static final RateLimitKeys KEYS = new RateLimitKeys(0x243f6a8885a308d3L, 0x13198a2e03707344L);
    private static final long ALICE = KEYS.of("198.51.100.1");
    private static final long BOB = KEYS.of("198.51.100.2");

    /** Requests for {@code key} at {@code nowNanos} until one is refused: how many passed. */
    private static int drain(RateLimiter limiter, long key, long nowNanos) {
        int passed = 0;
        while (limiter.acquire(key, nowNanos) == RateLimiter.ALLOWED) {
            passed++;
        }
        return passed;
    }

    @Test
    void aBurstPassesAtOnceThenRequestsAreRefused() {
        RateLimiter limiter = new RateLimiter(10, 5, 0);
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.acquire(ALICE, 0)).as("request %d", i).isEqualTo(RateLimiter.ALLOWED);
        }
        assertThat(limiter.acquire(ALICE, 0)).isEqualTo(1); // the next token in 100 ms
        assertThat(limiter.acquire(ALICE, 0)).as("a refusal takes nothing").isEqualTo(1);
    }

    @Test
    void tokensComeBackAtTheRate() {
        RateLimiter limiter = new RateLimiter(10, 5, 0);
        assertThat(drain(limiter, ALICE, 0)).isEqualTo(5);
        assertThat(drain(limiter, ALICE, 99 * MS)).isZero();
        assertThat(drain(limiter, ALICE, 100 * MS)).isEqualTo(1);
        assertThat(drain(limiter, ALICE, 350 * MS)).isEqualTo(2); // the tokens of 200 and 300 ms
        assertThat(drain(limiter, ALICE, 60 * SECOND)).as("never more than the burst").isEqualTo(5);
    }

    @Test
    void aClientAtFullSpeedGetsTheBurstThenExactlyTheRate() {
        RateLimiter limiter = new RateLimiter(100, 5, 0);
        int passed = 0;
        for (long now = 0; now <= 10 * SECOND; now += MS) { // 1000 requests per second for 10 s
            if (limiter.acquire(ALICE, now) == RateLimiter.ALLOWED) {
                passed++;
            }
        }
        assertThat(passed).isEqualTo(5 + 100 * 10);
    }

    @Test
    void retryAfterIsTheWholeSecondsUntilTheNextToken() {
        RateLimiter slow = new RateLimiter(0.5, 1, 0); // a token every 2 s
        assertThat(slow.acquire(ALICE, 0)).isEqualTo(RateLimiter.ALLOWED);
        assertThat(slow.acquire(ALICE, 0)).isEqualTo(2);
        assertThat(slow.acquire(ALICE, 500 * MS)).isEqualTo(2); // 1.5 s, rounded up
        assertThat(slow.acquire(ALICE, SECOND)).isEqualTo(1);
        assertThat(slow.acquire(ALICE, 2 * SECOND - 1)).isEqualTo(1); // 1 ns is still a second
        assertThat(slow.acquire(ALICE, 2 * SECOND)).isEqualTo(RateLimiter.ALLOWED);

        RateLimiter hourly = new RateLimiter(1.0 / 3600, 3, 0);
        assertThat(drain(hourly, ALICE, 0)).isEqualTo(3);
        assertThat(hourly.acquire(ALICE, 0)).isEqualTo(3600);
        assertThat(hourly.acquire(ALICE, 3599 * SECOND)).isEqualTo(1);

        RateLimiter fast = new RateLimiter(1000, 1, 0); // the wait is 1 ms, still "Retry-After: 1"
        assertThat(fast.acquire(ALICE, 0)).isEqualTo(RateLimiter.ALLOWED);
        assertThat(fast.acquire(ALICE, 0)).isEqualTo(1);
    }

    @Test
    void keysHaveTheirOwnBuckets() {
        RateLimiter limiter = new RateLimiter(1, 10, 0);
        assertThat(drain(limiter, ALICE, 0)).isEqualTo(10);
        assertThat(limiter.acquire(ALICE, 0)).isEqualTo(1);
        assertThat(drain(limiter, BOB, 0)).as("Bob is not slowed by Alice").isEqualTo(10);
        assertThat(drain(limiter, ALICE, SECOND)).isEqualTo(1);
        assertThat(drain(limiter, BOB, SECOND)).isEqualTo(1);
    }

    @Test
    void aKeyIsForgottenOnceItsBucketIsFullAgain() {
        RateLimiter limiter = new RateLimiter(10, 5, 0);
        for (int i = 0; i < 1000; i++) {
            limiter.acquire(KEYS.of("client-" + i), 0); // one token each: full again at 100 ms
        }
        drain(limiter, ALICE, 0); // five tokens: full again at 500 ms
        assertThat(limiter.trackedKeys(0)).isEqualTo(1001);
        assertThat(limiter.trackedKeys(100 * MS - 1)).isEqualTo(1001);
        assertThat(limiter.trackedKeys(100 * MS)).isEqualTo(1);
        assertThat(limiter.trackedKeys(500 * MS)).isZero();
        assertThat(drain(limiter, ALICE, 500 * MS)).as("a forgotten key starts with a full bucket").isEqualTo(5);
    }

    @Test
    void waveAfterWaveOfNewKeysReusesTheSlotsOfIdleOnes() {
        RateLimiter limiter = new RateLimiter(10, 5, 0);
        int wave = 2000;
        for (int w = 0; w < 50; w++) {
            long now = w * SECOND; // every wave's buckets are full before the next one
            for (int i = 0; i < wave; i++) {
                limiter.acquire(KEYS.of(w + "/" + i), now);
            }
            assertThat(limiter.trackedKeys(now)).isEqualTo(wave);
        }
        // 100 000 keys seen; the arrays grew to hold one wave at a time, far below the cap
        assertThat(limiter.allocatedSlots()).isLessThanOrEqualTo(8 * wave);
        assertThat(limiter.evictions()).isZero();
    }

    @Test
    void aMillionNewKeysStayWithinTheCapAndItsMemory() {
        long before = usedHeapAfterGc();
        RateLimiter limiter = new RateLimiter(1, 10, 0);
        for (int i = 0; i < 1_000_000; i++) {
            long now = i * 1_000L; // 1 µs apart: every bucket is still live at the end (1 s per token)
            limiter.acquire(KEYS.of("10." + (i >>> 16) + "." + (i >>> 8 & 0xff) + "." + (i & 0xff)), now);
            if (i % 50_000 == 0) {
                assertThat(limiter.trackedKeys(now)).isLessThanOrEqualTo(RateLimiter.DEFAULT_MAX_KEYS);
                assertThat(limiter.allocatedSlots()).isLessThanOrEqualTo(RateLimiter.DEFAULT_MAX_KEYS);
            }
        }
        long retained = usedHeapAfterGc() - before;
        assertThat(limiter.allocatedSlots()).isEqualTo(RateLimiter.DEFAULT_MAX_KEYS); // 2 MiB of buckets
        assertThat(limiter.trackedKeys(SECOND - 1)).isGreaterThan(RateLimiter.DEFAULT_MAX_KEYS * 9 / 10);
        assertThat(limiter.evictions()).isGreaterThanOrEqualTo(1_000_000 - RateLimiter.DEFAULT_MAX_KEYS);
        assertThat(retained).as("heap held by the limiter").isLessThan(4L << 20);
        assertThat(limiter.acquire(ALICE, SECOND)).isEqualTo(RateLimiter.ALLOWED); // reachable to the end
    }

    @Test
    void aFloodOfNewKeysDoesNotResetAnAbusiveKey() {
        // the smallest table, so the flood evicts all the time
        RateLimiter limiter = new RateLimiter(1, 10, 1024, 0);
        assertThat(drain(limiter, ALICE, 0)).isEqualTo(10); // full again at 10 s
        for (int i = 0; i < 1_000_000; i++) {
            long now = i * 1_000L;
            limiter.acquire(KEYS.of("flood-" + i), now); // one request each: full again 1 s later
            if (i % 1000 == 0) {
                assertThat(limiter.acquire(ALICE, now)).as("Alice at %d ns", now).isPositive();
            }
        }
        assertThat(limiter.evictions()).isGreaterThan(900_000);
        // 1 s after draining, exactly one token came back: the flood gave Alice nothing
        assertThat(drain(limiter, ALICE, SECOND)).isEqualTo(1);
    }

    @Test
    void threadsSharingAKeyGetNoMoreThanTheBurstAndTheRate() throws Exception {
        int threads = 4;
        double rate = 20_000;
        int burst = 100;
        long origin = System.nanoTime();
        RateLimiter limiter = new RateLimiter(rate, burst, origin);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> passed = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                long own = KEYS.of("thread-" + t);
                passed.add(pool.submit(() -> {
                    start.await();
                    int n = 0;
                    long end = System.nanoTime() + 200 * MS;
                    for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
                        if (limiter.acquire(ALICE, now) == RateLimiter.ALLOWED) {
                            n++;
                        }
                        limiter.acquire(own, now); // other keys on other segments, at the same time
                    }
                    return n;
                }));
            }
            start.countDown();
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
        double elapsed = (System.nanoTime() - origin) / 1e9;
        int total = 0;
        for (Future<Integer> f : passed) {
            total += f.get();
        }
        assertThat(total).isGreaterThanOrEqualTo(burst).isLessThanOrEqualTo((int) (burst + rate * elapsed) + 1);
    }

    @Test
    void timeIsCountedFromTheOriginAcrossTheNanoTimeWrap() {
        long origin = Long.MAX_VALUE - SECOND / 2;
        RateLimiter limiter = new RateLimiter(1, 2, origin);
        assertThat(drain(limiter, ALICE, origin)).isEqualTo(2);
        assertThat(drain(limiter, ALICE, origin + SECOND)).isEqualTo(1); // past Long.MAX_VALUE
        assertThat(limiter.acquire(BOB, origin - SECOND)).as("before the origin counts as the origin")
                .isEqualTo(RateLimiter.ALLOWED);
        assertThat(drain(limiter, BOB, origin)).isEqualTo(1);
    }

    @Test
    void rejectsImpossibleSettings() {
        assertThatThrownBy(() -> new RateLimiter(0, 10, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimiter(Double.NaN, 10, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimiter(Double.POSITIVE_INFINITY, 10, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimiter(10, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimiter(1e-9, 1_000_000, 0)).hasMessageContaining("century");
        assertThatThrownBy(() -> new RateLimiter(10, 5, 100_000, 0)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> new RateLimiter(10, 5, 512, 0)).hasMessageContaining("power of two");
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        System.gc();
        System.gc();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
