package dev.fulcrum.core.dsr;

import java.nio.ByteBuffer;

/**
 * The whole of DSR's change to a frame, as Linux LVS "direct routing" makes it: the destination
 * MAC becomes the server's and the source MAC the balancer's own; the IP packet — addresses, TTL,
 * checksums — is not touched, so the server sees the client's packet to the virtual IP and answers
 * the client directly.
 *
 * <p>The source MAC must be rewritten too: left as the client's, a switch or bridge would learn
 * the client's MAC on the balancer's port and send the server's replies to the balancer.
 */
public final class FrameRewrite {

    private FrameRewrite() {
    }

    /**
     * Rewrites the MAC addresses of the frame starting at {@code frameStart} (absolute; the
     * buffer's position and limit stay; big-endian buffer).
     */
    public static void rewrite(ByteBuffer frame, int frameStart, long serverMac, long ownMac) {
        MacAddress.write(frame, frameStart, serverMac);
        MacAddress.write(frame, frameStart + MacAddress.LENGTH, ownMac);
    }
}
