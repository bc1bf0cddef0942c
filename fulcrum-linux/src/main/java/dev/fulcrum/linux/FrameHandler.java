package dev.fulcrum.linux;

import java.nio.ByteBuffer;

/**
 * What a {@link PacketSocket} does with each frame it receives: look, rewrite in place, and say
 * whether to send it on. Called on the socket's owner thread, once per frame, in arrival order.
 */
@FunctionalInterface
public interface FrameHandler {

    /** {@code vnetHeaderAt} when the socket has no virtio_net_hdr (same value as the core's {@code DsrRouter.NO_VNET_HEADER}). */
    int NO_VNET_HEADER = -1;

    /**
     * One received frame, in place in the socket's receive ring.
     *
     * <p>{@code buffer} is big-endian and shared by all frames; indices are absolute, and its
     * position and limit mean nothing (neither read nor set). The frame is
     * {@code [frameStart, frameEnd)}, Ethernet header first; with {@code PACKET_VNET_HDR} its
     * 10-byte virtio_net_hdr is {@code [vnetHeaderAt, frameStart)}, else {@code vnetHeaderAt} is
     * {@link #NO_VNET_HEADER}. The bytes may be rewritten (the MACs), the length not. They are valid
     * only during this call: keep nothing.
     *
     * @return true to send the frame, as it is when this call returns, on the socket's interface
     *         (with its virtio_net_hdr when the socket has them); false to drop it
     */
    boolean onFrame(ByteBuffer buffer, int vnetHeaderAt, int frameStart, int frameEnd);
}
