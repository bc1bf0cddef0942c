package dev.fulcrum.core.health;

import dev.fulcrum.core.pool.ServerState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.fulcrum.core.pool.ServerState.CHECKING;
import static dev.fulcrum.core.pool.ServerState.DOWN;
import static dev.fulcrum.core.pool.ServerState.UP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HealthCounterTest {

    /** Applies a walk of 'P'ass / 'F'ail results and records "state/health" after each step. */
    private static List<String> walk(HealthCounter c, String results) {
        List<String> steps = new ArrayList<>();
        for (char r : results.toCharArray()) {
            if (r == 'P') {
                c.pass();
            } else {
                c.fail("connection refused");
            }
            steps.add(c.state() + "/" + c.health());
        }
        return steps;
    }

    @Test
    void rise2Fall3ExactWalkFromUp() {
        HealthCounter c = HealthCounter.up(2, 3);
        assertThat(c.health()).isEqualTo(4);
        // three failures in a row: 3, 2, then below rise -> 0 and down
        assertThat(walk(c, "FFF")).containsExactly("up/3", "up/2", "down/0");
        // down: one pass is not enough, the second reaches rise and jumps to the top
        assertThat(walk(c, "PP")).containsExactly("down/1", "up/4");
    }

    @Test
    void transitionsCarryTheirReason() {
        HealthCounter c = HealthCounter.up(2, 3);
        assertThat(c.fail("status 503")).isEmpty();
        assertThat(c.fail("status 503")).isEmpty();
        assertThat(c.fail("status 503")).contains(new HealthTransition(UP, DOWN, "3 checks failed: status 503"));
        assertThat(c.pass()).isEmpty();
        assertThat(c.pass()).contains(new HealthTransition(DOWN, UP, "2 checks passed"));
    }

    @Test
    void singularReasonForRiseOrFallOfOne() {
        HealthCounter c = HealthCounter.up(1, 1);
        assertThat(c.fail("timeout after 1s")).contains(new HealthTransition(UP, DOWN, "1 check failed: timeout after 1s"));
        assertThat(c.pass()).contains(new HealthTransition(DOWN, UP, "1 check passed"));
    }

    @Test
    void onePassWhileUpRestoresTheFullMargin() {
        HealthCounter c = HealthCounter.up(2, 3);
        // failures that are not in a row never take the server down
        assertThat(walk(c, "FFPFFPFFP")).containsExactly(
                "up/3", "up/2", "up/4", "up/3", "up/2", "up/4", "up/3", "up/2", "up/4");
    }

    @Test
    void oneFailureWhileDownForgetsCollectedPasses() {
        HealthCounter c = HealthCounter.down(3, 2);
        assertThat(walk(c, "PPFPPP")).containsExactly("down/1", "down/2", "down/0", "down/1", "down/2", "up/4");
    }

    @Test
    void flappingServerReportsOneTransitionPerChange() {
        HealthCounter c = HealthCounter.up(2, 3);
        List<HealthTransition> transitions = new ArrayList<>();
        String results = "FFF" + "PP" + "FFF" + "PP" + "FPFPFP";
        for (char r : results.toCharArray()) {
            Optional<HealthTransition> t = r == 'P' ? c.pass() : c.fail("connection refused");
            t.ifPresent(transitions::add);
        }
        assertThat(transitions).extracting(HealthTransition::to).containsExactly(DOWN, UP, DOWN, UP);
        assertThat(c.state()).isEqualTo(UP);
    }

    @Test
    void checkingGoesUpOnFirstPass() {
        HealthCounter c = HealthCounter.checking(2, 3);
        assertThat(c.state()).isEqualTo(CHECKING);
        assertThat(c.pass()).contains(new HealthTransition(CHECKING, UP, "1 check passed"));
        assertThat(c.health()).isEqualTo(4);
    }

    @Test
    void checkingGoesDownAfterFallFailuresAndUpOnALatePass() {
        HealthCounter c = HealthCounter.checking(2, 3);
        assertThat(c.fail("connection refused")).isEmpty();
        assertThat(c.fail("connection refused")).isEmpty();
        assertThat(c.state()).isEqualTo(CHECKING);
        assertThat(c.fail("connection refused"))
                .contains(new HealthTransition(CHECKING, DOWN, "3 checks failed: connection refused"));

        HealthCounter booting = HealthCounter.checking(2, 3);
        booting.fail("connection refused");
        booting.fail("connection refused");
        // still checking: a server that was booting takes traffic on its first pass
        assertThat(booting.pass()).contains(new HealthTransition(CHECKING, UP, "1 check passed"));
    }

    @Test
    void counterStaysInItsRange() {
        HealthCounter c = HealthCounter.down(2, 3);
        walk(c, "FFFF");
        assertThat(c.health()).isZero();
        walk(c, "PPPPPP");
        assertThat(c.health()).isEqualTo(4);
        assertThat(c.state()).isEqualTo(ServerState.UP);
    }

    @Test
    void rejectsRiseOrFallBelowOne() {
        assertThatThrownBy(() -> HealthCounter.up(0, 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HealthCounter.up(2, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
