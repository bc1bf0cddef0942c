package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The last state a node applied — the shared config's etcd keys and their revision — in
 * {@code state-dir/applied-state.json}, so that a node restarted while etcd is down serves what it
 * served before. Written whole to a temporary file in the same directory, forced to disk, then
 * renamed over the old one: a crash leaves the old state or the new one, never half of one.
 * Not thread-safe: one writer (the node's cluster thread).
 */
public final class StateFile {

    static final String NAME = "applied-state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A state: the etcd revision it is at and its shared-config keys (key -> JSON). */
    public record State(long revision, SortedMap<String, String> keys) {
        public State {
            keys = new TreeMap<>(keys);
        }
    }

    private final Path dir;

    public StateFile(Path dir) {
        this.dir = dir;
    }

    public Path path() {
        return dir.resolve(NAME);
    }

    public void write(State state) throws IOException {
        Files.createDirectories(dir);
        ObjectNode root = JSON.createObjectNode();
        root.put("revision", state.revision());
        ObjectNode keys = root.putObject("keys");
        state.keys().forEach(keys::put);
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        Path temp = dir.resolve(NAME + ".tmp");
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
            ch.force(true); // on disk before the rename makes it the state
        }
        Files.move(temp, path(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The saved state; empty when none was saved.
     *
     * @throws IOException when the file exists but cannot be read or is not a state
     */
    public Optional<State> read() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        JsonNode root = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        if (root == null || !root.path("revision").canConvertToLong() || !root.path("keys").isObject()) {
            throw new IOException(path() + " is not a Fulcrum state file");
        }
        SortedMap<String, String> keys = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : root.get("keys").properties()) {
            keys.put(e.getKey(), e.getValue().asText());
        }
        return Optional.of(new State(root.get("revision").asLong(), keys));
    }
}
