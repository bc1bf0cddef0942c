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
}
