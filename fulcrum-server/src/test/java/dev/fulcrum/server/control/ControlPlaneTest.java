package dev.fulcrum.server.control;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The control plane's ways to send a command, on the real thread and in simulated time. */
class ControlPlaneTest {

    @Test
    void commandsRunOnTheControlThreadOneAtATime() throws Exception {
        try (ControlPlane control = ControlPlane.onThread(Clock.systemUTC())) {
            assertThat(control.inControlThread()).isFalse();
            assertThat(control.call(() -> Thread.currentThread().getName())).isEqualTo("fulcrum-control");
            assertThat(control.call(() -> control.call(control::inControlThread))).as("inline when already there")
                    .isTrue();
            CompletableFuture<String> answer = control.submit(() -> "done");
            assertThat(answer.get(5, TimeUnit.SECONDS)).isEqualTo("done");
        }
    }

    @Test
    void aCommandsExceptionReachesItsCallerAsItIs() {
        try (ControlPlane control = ControlPlane.onThread(Clock.systemUTC())) {
            assertThatThrownBy(() -> control.call(() -> {
                throw new IllegalStateException("server 127.0.0.1:9101 is already in pool app");
            })).isInstanceOf(IllegalStateException.class).hasMessage("server 127.0.0.1:9101 is already in pool app");
            assertThat(control.call(() -> "still running")).isEqualTo("still running");
        }
    }

    @Test
    void manualTimeRunsTasksInDueOrderAtTheirDueTime() {
        ManualScheduler time = new ManualScheduler();
        ControlPlane control = new ControlPlane(time);
        List<String> ran = new ArrayList<>();
        var start = time.now();
        control.schedule(Duration.ofMillis(300), () -> ran.add("c at " + Duration.between(start, time.now()).toMillis()));
        control.schedule(Duration.ofMillis(100), () -> {
            ran.add("a at " + Duration.between(start, time.now()).toMillis());
            control.schedule(Duration.ofMillis(100), () -> ran.add("b at " + Duration.between(start, time.now()).toMillis()));
        });
        var cancelled = control.schedule(Duration.ofMillis(150), () -> ran.add("cancelled"));
        control.execute(() -> ran.add("now"));
        cancelled.cancel();
        assertThat(ran).as("nothing runs until time moves").isEmpty();
        time.advance(Duration.ofMillis(250));
        assertThat(ran).containsExactly("now", "a at 100", "b at 200");
        assertThat(time.now()).isEqualTo(start.plusMillis(250));
        time.advance(Duration.ofMillis(50));
        assertThat(ran).containsExactly("now", "a at 100", "b at 200", "c at 300");
        assertThat(control.call(() -> "inline")).isEqualTo("inline");
    }
}
