package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.autoscale.Provisioner.ProvisionException;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The provisioners' failure paths, with real child processes: each is one line, bounded in time. */
class ProvisionerIT {

    @TempDir
    Path logs;

    @Test
    void execScaleOutMustPrintAnAddressLast() throws Exception {
        ExecProvisioner garbage = exec(List.of("sh", "-c", "echo 127.0.0.1:9999; echo ready"));
        assertThatThrownBy(garbage::provision).isInstanceOf(ProvisionException.class)
                .hasMessage("scale-out printed no host:port as its last line: expected host:port, got \"ready\"");
        ExecProvisioner silent = exec(List.of("true"));
        assertThatThrownBy(silent::provision).hasMessage("scale-out printed no host:port");
        ExecProvisioner fine = exec(List.of("sh", "-c", "echo starting >&2; echo \"  127.0.0.1:9999  \""));
        assertThat(fine.provision()).isEqualTo(new HostPort("127.0.0.1", 9999));
    }

    /** A scale-out program's stdout is read up to 1 MiB, not into the heap whatever its size. */
    @Test
    void execScaleOutThatPrintsTooMuchFailsInOneLine() {
        ExecProvisioner flood = exec(List.of("sh", "-c", "head -c 2097152 /dev/zero; echo; echo 127.0.0.1:9999"));
        assertThatThrownBy(flood::provision).isInstanceOf(ProvisionException.class)
                .hasMessage("scale-out printed too much on stdout (is 2 MiB, larger than the 1 MiB allowed);"
                        + " it must print the new server's host:port");
    }

    @Test
    void execFailuresAndTimeoutsAreOneLine() {
        ExecProvisioner failing = exec(List.of("sh", "-c", "echo no quota >&2; exit 4"));
        assertThatThrownBy(failing::provision)
                .hasMessage("scale-out exited with code 4; see " + logs.resolve("app-exec.log"));
        assertThat(logs.resolve("app-exec.log")).content().contains("no quota");
        ExecProvisioner missing = exec(List.of(logs.resolve("no-such-program").toString()));
        assertThatThrownBy(missing::provision).hasMessageStartingWith("cannot run scale-out ");
        ExecProvisioner slow = new ExecProvisioner("app", List.of("sleep", "5"), List.of("true"), logs,
                Duration.ofMillis(300));
        long start = System.nanoTime();
        assertThatThrownBy(slow::provision).hasMessage("scale-out did not finish within 300 ms; killed");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void processCommandThatExitsIsAFailedStart() throws Exception {
        int port = Loopback.freePort();
        ProcessProvisioner p = new ProcessProvisioner("app", List.of("sh", "-c", "echo cannot start {port}; exit 1"),
                port, port, logs, Duration.ofSeconds(10), Duration.ofSeconds(2));
        assertThatThrownBy(p::provision).hasMessage("server on port " + port + " exited with code 1 while starting; see "
                + logs.resolve("app-" + port + ".log"));
        assertThat(logs.resolve("app-" + port + ".log")).content().isEqualTo("cannot start " + port + "\n");
        assertThat(p.pids()).isEmpty();
    }

    @Test
    void processPortsHeldByOthersAreSkipped() throws Exception {
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = held.getLocalPort();
            ProcessProvisioner p = new ProcessProvisioner("app", List.of("sleep", "5"), port, port, logs,
                    Duration.ofSeconds(1), Duration.ofSeconds(1));
            assertThatThrownBy(p::provision).hasMessage("no free port left in " + port + "-" + port);
        }
    }

    private ExecProvisioner exec(List<String> scaleOut) {
        return new ExecProvisioner("app", scaleOut, List.of("true"), logs, Duration.ofSeconds(10));
    }
}
