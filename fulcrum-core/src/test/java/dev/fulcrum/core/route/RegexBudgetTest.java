package dev.fulcrum.core.route;

import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class RegexBudgetTest {

    @Test
    void anHonestPatternFindsWhatItFinds() {
        Pattern p = Pattern.compile("^/u/[0-9]+$");
        assertThat(RegexBudget.find(p, "/u/42")).isTrue();
        assertThat(RegexBudget.find(p, "/u/4x2")).isFalse();
        assertThat(new PathMatch.Regex(Pattern.compile("/v[0-9]/")).matches("/api/v2/users")).isTrue();
    }

    @Test
    void aPathBuiltToBacktrackExponentiallyIsNoMatchWithinTheBudget() {
        // (a+)+$ against a^40 b: about 2^40 steps unbounded; one request would hold a core for hours
        Pattern evil = Pattern.compile("^/(a+)+$");
        String path = "/" + "a".repeat(40) + "b";
        long t0 = System.nanoTime();
        boolean matched = new PathMatch.Regex(evil).matches(path);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(matched).isFalse();
        assertThat(ms).as("bounded by %d character reads", RegexBudget.MAX_READS).isLessThan(2_000);
        // the same pattern still matches what it should
        assertThat(new PathMatch.Regex(evil).matches("/" + "a".repeat(40))).isTrue();
    }

    @Test
    void aLongPathWithinTheBudgetIsSearchedWhole() {
        Pattern tail = Pattern.compile("/end$");
        String path = "/x".repeat(30_000) + "/end";
        assertThat(RegexBudget.find(tail, path)).as("60 KiB read a few times: within the budget").isTrue();
    }
}
