package dev.fulcrum.server.cluster;

import dev.fulcrum.server.testing.ItLogs;
import dev.fulcrum.server.testing.Netns;
import dev.fulcrum.server.testing.Processes;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link FlowClient} running in a namespace, driven from the test: each call sends one command
 * and waits (bounded) for its {@code done}. Close it before its namespace. Test thread only.
 */
final class FlowClientProcess implements AutoCloseable {

    /** One connection's answer: its local (source) port, the status (0 when it failed) and the body or the failure. */
    record Flow(int port, int status, String text) {
        boolean ok() {
            return status == 200;
        }
    }

    private static final String EOF = "\u0000eof";

    private final Process process;
    private final Path log;
    private final Writer commands;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private FlowClientProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread.startVirtualThread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process ended: the EOF marker below tells the waiting call
            }
            lines.add(EOF);
        });
    }

    /** Starts {@code java FlowClient HOST PORT} in {@code netns}, with the JVM running this test. */
    static FlowClientProcess start(Netns netns, String host, int port) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(netns.commandPrefix());
        command.addAll(List.of(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", testClasses(),
                FlowClient.class.getName(), host, Integer.toString(port)));
        Path log = ItLogs.file("flow-client-" + netns.name());
        return new FlowClientProcess(new ProcessBuilder(command).redirectError(log.toFile()).start(), log);
    }

    private static String testClasses() {
        try {
            return Path.of(FlowClient.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Opens {@code count} new connections, one {@code GET /} on each. */
    List<Flow> open(int count, Duration bound) throws IOException, InterruptedException {
        return command("open " + count, bound);
    }

    /** One more {@code GET /} on every connection still open. */
    List<Flow> again(Duration bound) throws IOException, InterruptedException {
        return command("again", bound);
    }

    private List<Flow> command(String command, Duration bound) throws IOException, InterruptedException {
        commands.write(command + "\n");
        commands.flush();
        long deadline = System.nanoTime() + bound.toNanos();
        List<Flow> flows = new ArrayList<>();
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals(EOF)) {
                throw new IOException("flow client: no 'done' for '" + command + "' within " + bound
                        + (line == null ? "" : " (it exited)") + "; see " + log);
            }
            if (line.equals("done")) {
                return flows;
            }
            String[] f = line.split(" ", 3);
            boolean failed = f[1].equals("fail");
            flows.add(new Flow(Integer.parseInt(f[0]), failed ? 0 : Integer.parseInt(f[1]), f.length > 2 ? f[2] : ""));
        }
    }

    /** Closes stdin (the client closes its connections and exits), then stops it by PID if it does not. */
    @Override
    public void close() throws InterruptedException {
        try {
            commands.close();
        } catch (IOException e) {
            // already gone: stopping it below is all that is left
        }
        if (!process.waitFor(2, TimeUnit.SECONDS)) {
            Processes.stop(process, Duration.ofSeconds(5));
        }
    }
}
