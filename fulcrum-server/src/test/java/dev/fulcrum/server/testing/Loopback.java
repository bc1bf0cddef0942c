package dev.fulcrum.server.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback ports for tests, below the ephemeral range, each handed out once per JVM. Thread-safe. */
public final class Loopback {

    private Loopback() {
    }

    /** Ports this JVM handed out already: a port is given once, so two servers of a test never get the same. */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A TCP port on 127.0.0.1 that was free a moment ago (bound, then released), below the kernel's
     * ephemeral range: a port the kernel picked (bind to 0) lies inside that range, where the source
     * port of any outgoing connection can take it before the server meant for it binds (it did: a
     * cluster node's admin port, "Address already in use", its etcd clients connecting meanwhile).
     */
    public static int freePort() throws IOException {
        return freeConsecutivePortsBelowEphemeral(1);
    }

    /**
     * The first of {@code count} consecutive TCP ports on 127.0.0.1 that were all free a moment
     * ago, for programs that take a base port and use the next ones too.
     */
    public static int freeConsecutivePorts(int count) throws IOException {
        return freeConsecutivePortsBelowEphemeral(count);
    }

    /**
     * The first of {@code count} consecutive free ports below the kernel's ephemeral range
     * ({@code net.ipv4.ip_local_port_range}), for servers started later: a port inside that range
     * can be taken meanwhile by the source port of any outgoing connection (or its TIME_WAIT).
     */
    public static int freeConsecutivePortsBelowEphemeral(int count) throws IOException {
        int low = 32768;
        try {
            // a line reader: Files.readString returned only the first byte of this /proc file here
            try (var reader = java.nio.file.Files.newBufferedReader(
                    java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
                low = Integer.parseInt(reader.readLine().trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException unreadable) {
            // not Linux, or no /proc: the usual default
        }
        int first = 10_000;
        int span = low - count - first;
        if (span <= 0) {
            throw new IOException("no room below the ephemeral range (starts at " + low + ") for " + count + " ports");
        }
        if (HANDED_OUT.size() > span / 2) {
            HANDED_OUT.clear(); // a long run: ports handed out long ago are free again
        }
        int start = first + java.util.concurrent.ThreadLocalRandom.current().nextInt(span);
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = first + Math.floorMod(start - first + attempt * count, span);
            if (!handedOut(base, count) && allFree(base, count)) {
                for (int p = base; p < base + count; p++) {
                    HANDED_OUT.add(p);
                }
                return base;
            }
        }
        throw new IOException("no " + count + " consecutive free ports found below " + low + " on 127.0.0.1");
    }

    private static boolean handedOut(int first, int count) {
        for (int p = first; p < first + count; p++) {
            if (HANDED_OUT.contains(p)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code count} ports from {@code first} on can each be bound on 127.0.0.1 now. */
    private static boolean allFree(int first, int count) {
        for (int p = first; p < first + count; p++) {
            try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                if (s.getLocalPort() != p) {
                    return false;
                }
            } catch (IOException taken) {
                return false;
            }
        }
        return true;
    }
}
