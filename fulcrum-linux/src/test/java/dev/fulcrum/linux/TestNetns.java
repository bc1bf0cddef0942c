package dev.fulcrum.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Network namespaces for these tests: created with {@code ip netns add} under a random name,
 * removed in {@link #close()}. {@link #call} runs code on a new platform thread that first joins
 * the namespace with {@code setns(2)} — a per-thread move on Linux — so sockets it opens live
 * there and never touch the host's network.
 */
final class TestNetns implements AutoCloseable {

    private static final int CLONE_NEWNET = 0x40000000;
    private static final MethodHandle OPEN = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETNS = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    final String name;

    private TestNetns(String name) {
        this.name = name;
    }

    /** Why these tests cannot run here, or null when they can. */
    static String unavailableReason() {
        if (!Privileges.isLinux()) {
            return "needs Linux";
        }
        if (!Privileges.missingNetworkCapabilities().isEmpty()) {
            return "needs root (CAP_NET_RAW, CAP_NET_ADMIN) to create network namespaces";
        }
        try {
            TestNetns probe = create();
            probe.close();
            return null;
        } catch (IOException | RuntimeException e) {
            return "cannot create a network namespace: " + e.getMessage();
        }
    }

    static TestNetns create() throws IOException {
        String name = "fxl" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
        run("ip", "netns", "add", name);
        TestNetns ns = new TestNetns(name);
        ns.ip("link", "set", "lo", "up");
        return ns;
    }

    /** {@code ip -n NAME ARGS}; its output, or an exception with its stderr. */
    String ip(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "-n", name));
        command.addAll(List.of(args));
        return run(command.toArray(String[]::new));
    }

    static String run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": " + out.strip());
        }
        return out;
    }

    /** Runs {@code task} on a new platform thread inside this namespace; waits up to 20 s. */
    <T> T call(Callable<T> task) throws Exception {
        FutureTask<T> future = new FutureTask<>(() -> {
            enter();
            return task.call();
        });
        Thread thread = Thread.ofPlatform().name("in-" + name).daemon().start(future);
        try {
            return future.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        } catch (TimeoutException e) {
            thread.interrupt();
            throw e;
        }
    }

    private void enter() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom("/var/run/netns/" + name), 0);
            if (fd < 0) {
                throw new IOException("cannot open /var/run/netns/" + name);
            }
            int rc = (int) SETNS.invokeExact(fd, CLONE_NEWNET);
            int ignored = (int) CLOSE.invokeExact(fd);
            if (rc != 0) {
                throw new IOException("setns(" + name + ") failed");
            }
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The interface index of {@code device} in this namespace. */
    int index(String device) throws IOException {
        String line = ip("-o", "link", "show", device);
        return Integer.parseInt(line.substring(0, line.indexOf(':')).trim());
    }

    @Override
    public void close() throws IOException {
        run("ip", "netns", "del", name);
    }
}
