package dev.fulcrum.server.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * The VRRP states one member entered, as its notify program recorded them: a script that appends
 * {@code EPOCH_NANOS STATE} to a file, written by {@link #notifyScript}. keepalived passes the
 * state as its 3rd argument, Fulcrum as its last; the wall clock is {@link EpochNanos}'. Both
 * run notify asynchronously, a few milliseconds after the change, so figures from here are
 * comparable between the two. Thread-safe.
 */
public final class VrrpStates {

    public static final String MASTER = "MASTER";
    public static final String BACKUP = "BACKUP";
    public static final String FAULT = "FAULT";

    /** A state entered at {@code epochNanos} (wall clock, see {@link EpochNanos}). */
    public record Transition(long epochNanos, String state) {
    }

    private final String name;
    private final Path file;
    private final BooleanSupplier alive;

    private VrrpStates(String name, Path file, BooleanSupplier alive) {
        this.name = name;
        this.file = file;
        this.alive = alive;
    }

    /**
     * Writes {@code dir/notify.sh}, which records the state found in argument {@code argument}
     * ({@code "$3"} for keepalived, {@code "$1"} for Fulcrum) to {@code dir/states}.
     */
    public static Path notifyScript(Path dir, String argument) throws IOException {
        Path script = dir.resolve("notify.sh");
        // date, not the shell, for nanoseconds
        Files.writeString(script, "#!/bin/sh\necho \"$(date +%s%N) " + argument + "\" >> " + dir.resolve("states") + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    /** The states recorded in {@code dir/states} by {@link #notifyScript}; {@code alive} fails waits early. */
    public static VrrpStates in(String name, Path dir, BooleanSupplier alive) {
        return new VrrpStates(name, dir.resolve("states"), alive);
    }

    /** Every state entered so far, oldest first. */
    public List<Transition> transitions() {
        if (!Files.exists(file)) {
            return List.of();
        }
        try (Stream<String> lines = Files.lines(file)) {
            return lines.filter(l -> l.matches("\\d+ [A-Z]+"))
                    .map(l -> l.split(" "))
                    .map(p -> new Transition(Long.parseLong(p[0]), p[1]))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The state entered last, or "" before the first. */
    public String state() {
        List<Transition> all = transitions();
        return all.isEmpty() ? "" : all.getLast().state();
    }

    /** How many times {@code state} was entered at or after {@code fromEpochNanos}. */
    public long timesEntered(String state, long fromEpochNanos) {
        return transitions().stream()
                .filter(t -> t.state().equals(state) && t.epochNanos() >= fromEpochNanos).count();
    }

    /** Waits until the current state is {@code state}; fails early if the member exited. */
    public Transition awaitState(String state, Duration bound) {
        return await(name + " in state " + state).atMost(bound).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    List<Transition> all = transitions();
                    if (!all.isEmpty() && all.getLast().state().equals(state)) {
                        return all.getLast();
                    }
                    failIfExited();
                    return null;
                }, t -> t != null);
    }

    /** Waits until {@code state} is entered at or after {@code fromEpochNanos}; the first such entry. */
    public Transition awaitEntered(String state, long fromEpochNanos, Duration bound) {
        return await(name + " entering " + state).atMost(bound).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    for (Transition t : transitions()) {
                        if (t.state().equals(state) && t.epochNanos() >= fromEpochNanos) {
                            return t;
                        }
                    }
                    failIfExited();
                    return null;
                }, t -> t != null);
    }

    private void failIfExited() {
        if (!alive.getAsBoolean()) {
            throw new IllegalStateException(name + " exited");
        }
    }

    @Override
    public String toString() {
        return name + " " + transitions().stream().map(Transition::state).collect(Collectors.joining(" -> "));
    }
}
