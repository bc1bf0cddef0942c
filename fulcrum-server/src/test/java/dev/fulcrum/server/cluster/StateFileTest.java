package dev.fulcrum.server.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** state-dir: what is written is read back whole; a fresh directory has none; a later write replaces. */
class StateFileTest {

    @TempDir
    Path dir;

    @Test
    void roundTrip() throws IOException {
        StateFile file = new StateFile(dir.resolve("sub"));
        assertThat(file.read()).isEmpty();
        TreeMap<String, String> keys = new TreeMap<>();
        keys.put("/fulcrum/config/pools/app", "{\"name\":\"app\"}");
        keys.put("/fulcrum/config/pools/app/servers/127.0.0.1:9001", "{\"address\":\"127.0.0.1:9001\",\"weight\":2}");
        file.write(new StateFile.State(42, keys));
        assertThat(file.read()).contains(new StateFile.State(42, keys));

        keys.remove("/fulcrum/config/pools/app/servers/127.0.0.1:9001");
        file.write(new StateFile.State(43, keys));
        assertThat(file.read()).contains(new StateFile.State(43, keys));
        // the temporary file was renamed over the state, not left behind
        try (var files = Files.list(dir.resolve("sub"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("applied-state.json");
        }
    }

    @Test
    void aFileThatIsNotAStateIsAnError() throws IOException {
        Files.writeString(dir.resolve("applied-state.json"), "{\"something\": 1}");
        assertThatThrownBy(() -> new StateFile(dir).read()).isInstanceOf(IOException.class)
                .hasMessageContaining("not a Fulcrum state file");
    }
}
