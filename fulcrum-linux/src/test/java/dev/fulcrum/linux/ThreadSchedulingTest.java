package dev.fulcrum.linux;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ThreadSchedulingTest {

    @Test
    void onlyTheCallingThreadBecomesRealtime() throws Exception {
        assumeTrue(Privileges.isLinux() && Privileges.missingNetworkCapabilities().isEmpty(),
                "skipped: needs root (CAP_SYS_NICE) for SCHED_RR");
        FutureTask<String[]> task = new FutureTask<>(() -> {
            ThreadScheduling.roundRobinRealtime(5);
            return Files.readString(Path.of("/proc/thread-self/stat")).split("\\) ")[1].split(" ");
        });
        Thread.ofPlatform().start(task);
        String[] fields = task.get(10, TimeUnit.SECONDS);
        // after "pid (comm) ", field 3 (state) is index 0: rt_priority is field 40, policy field 41
        assertThat(fields[40 - 3]).as("rt_priority").isEqualTo("5");
        assertThat(fields[41 - 3]).as("policy (2 = SCHED_RR)").isEqualTo("2");
        String[] mine = Files.readString(Path.of("/proc/thread-self/stat")).split("\\) ")[1].split(" ");
        assertThat(mine[41 - 3]).as("the test thread's policy").isEqualTo("0");
    }

    @Test
    void priorityOutsideTheRangeIsRefused() {
        assertThatThrownBy(() -> ThreadScheduling.roundRobinRealtime(0))
                .hasMessage("real-time priority must be 1..99, got 0");
    }
}
