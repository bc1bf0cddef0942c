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
            boolean allFree = true;
            for (int p = base + 1; p < base + count && allFree; p++) {
                try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                    allFree = s.getLocalPort() == p;
                } catch (IOException taken) {
                    allFree = false;
                }
            }
            if (allFree) {
                return base;
            }
        }
        throw new IOException("no " + count + " consecutive free ports found on 127.0.0.1");
    }
}
