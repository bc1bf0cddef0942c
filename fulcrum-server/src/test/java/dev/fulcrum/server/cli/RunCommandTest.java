package dev.fulcrum.server.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line a service runs, {@code run -c FILE}, is taken without picocli; every other
 * form goes to picocli, so that its parsing, errors and help stay the only ones an operator reads.
 */
class RunCommandTest {

    @Test
    void runWithAConfigFileIsTakenWithoutPicocli() {
        assertThat(RunCommand.plain("run", "-c", "/etc/fulcrum/fulcrum.yaml").config)
                .isEqualTo(Path.of("/etc/fulcrum/fulcrum.yaml"));
        assertThat(RunCommand.plain("run", "--config", "fulcrum.yaml").config).isEqualTo(Path.of("fulcrum.yaml"));
    }

    @Test
    void everyOtherFormGoesToPicocli() {
        String[][] others = {
                {}, {"run"}, {"run", "-c"}, {"run", "--help"}, {"run", "-h", "-c", "f.yaml"},
                {"run", "-c", "f.yaml", "extra"}, {"run", "-c", "a.yaml", "-c", "b.yaml"},
                {"run", "-cf.yaml", "x"}, {"run", "--config=f.yaml", "x"}, {"run", "-c", "-h"},
                {"run", "-c", ""}, {"run", "-c", "@args.txt"}, {"run", "-c", "bad\0path"},
                {"validate", "-c", "f.yaml"}, {"demo", "-c", "f.yaml"}, {"@args.txt", "-c", "f.yaml"},
                {"RUN", "-c", "f.yaml"}, {"run", "-C", "f.yaml"},
        };
        for (String[] args : others) {
            assertThat(RunCommand.plain(args)).as(String.join(" ", args)).isNull();
        }
    }
}
