package dev.fulcrum.core.autoscale;

import dev.fulcrum.core.autoscale.Decision.Direction;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScalingPolicyTest {

    private static final Instant T0 = Instant.parse("2026-01-01T03:00:00Z");
    /** out above 0.80, in below 0.30, window 30 s, cooldown 60 s, 2..10 servers. */
    private final ScalingPolicy policy = new ScalingPolicy(
            new ScalingRules(0.80, 0.30, Duration.ofSeconds(30), Duration.ofSeconds(60), 2, 10));
    private final Instant now = T0.plusSeconds(100);

    /** Samples every 5 s over the last 30 s (6 per server), all with the given value. */
    private static List<Sample> steady(double value, String... servers) {
        List<Sample> out = new ArrayList<>();
        for (String s : servers) {
            for (int i = 0; i < 6; i++) {
                out.add(new Sample(s, T0.plusSeconds(100 - 5 * i), value));
            }
        }
        return out;
    }

    @Test
    void proportionalStepAsTheHpa() {
        // 2 servers at 1.0: ceil(2 × 1.0 / 0.8) = ceil(2.5) = 3 → out 1
        Decision d = policy.decide(steady(1.0, "a:1", "b:1"), now, 2, Set.of(), null);
        assertThat(d.direction()).isEqualTo(Direction.OUT);
        assertThat(d.count()).isEqualTo(1);
        assertThat(d.average()).isEqualTo(1.0);
        assertThat(d.reason()).isEqualTo("average 1.0000 over 30s of 2 servers above 0.80: 2 -> 3 servers");

        // 4 servers at 0.96: ceil(4 × 0.96 / 0.8) = ceil(4.8) = 5 → out 1; at 1.0: ceil(5.0) = 5
        assertThat(policy.decide(steady(0.96, "a:1", "b:1", "c:1", "d:1"), now, 4, Set.of(), null).count()).isEqualTo(1);
        assertThat(policy.decide(steady(1.0, "a:1", "b:1", "c:1", "d:1"), now, 4, Set.of(), null).count()).isEqualTo(1);
        // far from the target the step is large: 3 servers at 2.0 (a 0..2 gauge) → ceil(7.5) = 8 → out 5
        assertThat(policy.decide(steady(2.0, "a:1", "b:1", "c:1"), now, 3, Set.of(), null).count()).isEqualTo(5);
    }

    @Test
    void averageIsPerServerThenOverThePool() {
        List<Sample> samples = new ArrayList<>(steady(1.0, "a:1"));
        // b scraped once only, at 0.7: it counts once, like a, so the pool average is 0.85
        samples.add(new Sample("b:1", now.minusSeconds(1), 0.7));
        Decision d = policy.decide(samples, now, 2, Set.of(), null);
        assertThat(d.average()).isCloseTo(0.85, org.assertj.core.data.Offset.offset(1e-12));
        // ceil(1.7 / 0.8) = ceil(2.125) = 3
        assertThat(d.direction()).isEqualTo(Direction.OUT);
        assertThat(d.count()).isEqualTo(1);
    }

    @Test
    void samplesOutsideTheWindowAreIgnored() {
        List<Sample> samples = new ArrayList<>();
        samples.add(new Sample("a:1", now.minusSeconds(30), 1.0)); // exactly window old: out
        samples.add(new Sample("a:1", now.minusSeconds(31), 1.0));
        samples.add(new Sample("a:1", now.plusSeconds(1), 1.0)); // from the future: out
        samples.add(new Sample("a:1", now.minusSeconds(29), 0.5));
        samples.add(new Sample("b:1", now, 0.5));
        Decision d = policy.decide(samples, now, 2, Set.of(), null);
        assertThat(d.average()).isEqualTo(0.5);
        assertThat(d.direction()).isEqualTo(Direction.HOLD);
        assertThat(d.reason()).isEqualTo("average 0.5000 over 30s of 2 servers within 0.30..0.80");
    }

    @Test
    void hysteresisHoldsBetweenTheThresholds() {
        for (double v : new double[] {0.30, 0.31, 0.55, 0.79, 0.80}) {
            Decision d = policy.decide(steady(v, "a:1", "b:1", "c:1"), now, 3, Set.of(), null);
            assertThat(d.direction()).as("average %s", v).isEqualTo(Direction.HOLD);
        }
        assertThat(policy.decide(steady(0.81, "a:1", "b:1", "c:1"), now, 3, Set.of(), null).direction())
                .isEqualTo(Direction.OUT);
        assertThat(policy.decide(steady(0.29, "a:1", "b:1", "c:1"), now, 3, Set.of(), null).direction())
                .isEqualTo(Direction.IN);
    }

    @Test
    void scaleInIsProportionalAndStopsAtMinServers() {
        // 6 servers at 0.2: ceil(6 × 0.2 / 0.8) = ceil(1.5) = 2 → in 4
        Decision d = policy.decide(steady(0.2, "a:1", "b:1", "c:1", "d:1", "e:1", "f:1"), now, 6, Set.of(), null);
        assertThat(d.direction()).isEqualTo(Direction.IN);
        assertThat(d.count()).isEqualTo(4);
        assertThat(d.reason()).isEqualTo("average 0.2000 over 30s of 6 servers below 0.30: 6 -> 2 servers");
        // 8 servers at 0.25: ceil(2.5) = 3 → in 5; the 3 left average 0.67: no out follows
        assertThat(policy.decide(steady(0.25, "a", "b", "c", "d", "e", "f", "g", "h"), now, 8, Set.of(), null).count())
                .isEqualTo(5);
        // 3 servers idle: desired 0, clamped to min-servers 2 → in 1
        assertThat(policy.decide(steady(0.0, "a:1", "b:1", "c:1"), now, 3, Set.of(), null).count()).isEqualTo(1);
        Decision atMin = policy.decide(steady(0.0, "a:1", "b:1"), now, 2, Set.of(), null);
        assertThat(atMin.direction()).isEqualTo(Direction.HOLD);
        assertThat(atMin.reason()).endsWith("but at min-servers 2");
    }

    @Test
    void scaleOutStopsAtMaxServers() {
        // 8 servers at 1.0 want ceil(10) = 10 → out 2; 9 at 1.0 want 12, clamped → out 1
        assertThat(policy.decide(steady(1.0, "a", "b", "c", "d", "e", "f", "g", "h"), now, 8, Set.of(), null).count())
                .isEqualTo(2);
        assertThat(policy.decide(steady(1.0, "a", "b", "c", "d", "e", "f", "g", "h", "i"), now, 9, Set.of(), null)
                .count()).isEqualTo(1);
        Decision atMax = policy.decide(steady(1.0, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), now, 10,
                Set.of(), null);
        assertThat(atMax.direction()).isEqualTo(Direction.HOLD);
        assertThat(atMax.reason()).endsWith("but at max-servers 10");
    }

    @Test
    void boundsApplyWithoutSamplesOnceTheCooldownIsOver() {
        Instant justActed = now.minusSeconds(1);
        assertThat(policy.decide(List.of(), now, 0, Set.of(), justActed).direction()).isEqualTo(Direction.HOLD);
        Instant longAgo = now.minusSeconds(60);
        Decision below = policy.decide(List.of(), now, 0, Set.of(), longAgo);
        assertThat(below.direction()).isEqualTo(Direction.OUT);
        assertThat(below.count()).isEqualTo(2);
        assertThat(below.reason()).isEqualTo("0 servers, below min-servers 2");
        Decision above = policy.decide(List.of(), now, 13, Set.of(), null);
        assertThat(above.direction()).isEqualTo(Direction.IN);
        assertThat(above.count()).isEqualTo(3);
    }

    @Test
    void cooldownHoldsAfterEveryActionUntilItEnds() {
        List<Sample> hot = steady(1.0, "a:1", "b:1");
        Instant acted = now.minusSeconds(59);
        Decision d = policy.decide(hot, now, 2, Set.of(), acted);
        assertThat(d.direction()).isEqualTo(Direction.HOLD);
        assertThat(d.reason()).isEqualTo("cooldown until 2026-01-01T03:01:41Z");
        // exactly cooldown later the pool may act again
        assertThat(policy.decide(hot, now, 2, Set.of(), now.minusSeconds(60)).direction()).isEqualTo(Direction.OUT);
    }

    @Test
    void noFreshSampleHolds() {
        Decision d = policy.decide(List.of(new Sample("a:1", now.minusSeconds(45), 1.0)), now, 3, Set.of(), null);
        assertThat(d.direction()).isEqualTo(Direction.HOLD);
        assertThat(d.average()).isNull();
        assertThat(d.reason()).isEqualTo("no fresh sample in the last 30s");
    }

    @Test
    void anUnknownServerIsNotZero() {
        // b failed every scrape: the average is a's 0.2 alone, not (0.2 + 0) / 2 = 0.1
        Decision d = policy.decide(steady(0.2, "a:1"), now, 2, Set.of(), null);
        assertThat(d.average()).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(d.reason()).startsWith("average 0.2000 over 30s of 1 server below 0.30");
    }

    @Test
    void startingServersAreCapacityThatIsComing() {
        // 2 servers at 1.0 want 3; with a third already starting, the pool holds
        Decision d = policy.decide(steady(1.0, "a:1", "b:1"), now, 3, Set.of("c:1"), null);
        assertThat(d.direction()).isEqualTo(Direction.HOLD);
        assertThat(d.reason()).isEqualTo(
                "average 1.0000 over 30s of 2 servers above 0.80 but 1 server(s) starting or without a reading count as capacity");
        // 2 at 1.6 want ceil(4) = 4; 1 starting → out 1 more
        Decision more = policy.decide(steady(1.6, "a:1", "b:1"), now, 3, Set.of("provisioning-1"), null);
        assertThat(more.direction()).isEqualTo(Direction.OUT);
        assertThat(more.count()).isEqualTo(1);
        // a starting server's own samples do not count
        List<Sample> samples = new ArrayList<>(steady(0.9, "a:1", "b:1"));
        samples.addAll(steady(0.0, "c:1"));
        assertThat(policy.decide(samples, now, 3, Set.of("c:1"), null).average()).isEqualTo(0.9);
        // and no scale-in while a server is starting
        Decision quiet = policy.decide(steady(0.1, "a:1", "b:1"), now, 3, Set.of("c:1"), null);
        assertThat(quiet.direction()).isEqualTo(Direction.HOLD);
        assertThat(quiet.reason()).endsWith("but 1 server(s) still starting");
    }

    @Test
    void rulesAreValidated() {
        assertThatThrownBy(() -> new ScalingRules(0.3, 0.3, Duration.ofSeconds(1), Duration.ZERO, 1, 2))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScalingRules(0.8, 0.3, Duration.ofSeconds(1), Duration.ZERO, 3, 2))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Sample("a:1", now, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> policy.decide(List.of(), now, 1, Set.of("a", "b"), null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
