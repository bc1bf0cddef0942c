package dev.fulcrum.server.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback ports for tests. Stateless; thread-safe. */
public final class Loopback {

    private Loopback() {
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago (bound, then released). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * The first of {@code count} consecutive TCP ports on 127.0.0.1 that were all free a moment
     * ago, for programs that take a base port and use the next ones too.
     */
    public static int freeConsecutivePorts(int count) throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = freePort();
            if (base + count > 65535) {
                continue;
            }
            if (allFree(base + 1, count - 1)) {
                return base;
            }
        }
        throw new IOException("no " + count + " consecutive free ports found on 127.0.0.1");
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
        int start = first + java.util.concurrent.ThreadLocalRandom.current().nextInt(span);
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = first + Math.floorMod(start - first + attempt * count, span);
            if (allFree(base, count)) {
                return base;
            }
        }
        throw new IOException("no " + count + " consecutive free ports found below " + low + " on 127.0.0.1");
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
