package dev.fulcrum.core.route;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightedSplitTest {

    private record Share(String pool, int weight) {
    }

    private static List<String> picks(WeightedSplit<Share> split, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(split.next().pool());
        }
        return out;
    }

    @Test
    void ninetyTenIsNineToOneInEveryTenPicks() {
        WeightedSplit<Share> split = WeightedSplit.of(List.of(new Share("v1", 90), new Share("v2", 10)),
                Share::weight);
        // nginx's smooth sequence for 9:1 puts the light pool in the middle of the cycle
        assertThat(picks(split, 10)).containsExactly("v1", "v1", "v1", "v1", "v1", "v2", "v1", "v1", "v1", "v1");
        Map<String, Integer> counts = new HashMap<>();
        picks(split, 10_000).forEach(p -> counts.merge(p, 1, Integer::sum));
        assertThat(counts).containsExactlyInAnyOrderEntriesOf(Map.of("v1", 9_000, "v2", 1_000));
    }

    @Test
    void everyCycleHasTheExactProportions() {
        WeightedSplit<Share> split = WeightedSplit.of(
                List.of(new Share("a", 5), new Share("b", 1), new Share("c", 1)), Share::weight);
        assertThat(picks(split, 14)).containsExactly("a", "a", "b", "a", "c", "a", "a",
                "a", "a", "b", "a", "c", "a", "a");
        WeightedSplit<Share> odd = WeightedSplit.of(
                List.of(new Share("a", 37), new Share("b", 100), new Share("c", 1)), Share::weight);
        for (int cycle = 0; cycle < 3; cycle++) {
            List<String> one = picks(odd, 138);
            assertThat(one).filteredOn("a"::equals).hasSize(37);
            assertThat(one).filteredOn("b"::equals).hasSize(100);
            assertThat(one).filteredOn("c"::equals).hasSize(1);
        }
    }

    @Test
    void oneTargetTakesEverything() {
        WeightedSplit<Share> split = WeightedSplit.of(List.of(new Share("only", 7)), Share::weight);
        assertThat(picks(split, 3)).containsExactly("only", "only", "only");
    }

    @Test
    void concurrentPickersTogetherKeepTheProportions() throws Exception {
        WeightedSplit<Share> split = WeightedSplit.of(List.of(new Share("v1", 3), new Share("v2", 1)),
                Share::weight);
        Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        counts.computeIfAbsent(split.next().pool(), _ -> new AtomicInteger()).incrementAndGet();
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        assertThat(counts.get("v1").get()).isEqualTo(30_000);
        assertThat(counts.get("v2").get()).isEqualTo(10_000);
    }

    @Test
    void noTargetOrAWeightBelowOneIsRefused() {
        assertThatThrownBy(() -> WeightedSplit.of(List.<Share>of(), Share::weight))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WeightedSplit.of(List.of(new Share("a", 0)), Share::weight))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
