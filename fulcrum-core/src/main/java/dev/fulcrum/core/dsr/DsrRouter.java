package dev.fulcrum.core.dsr;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The per-packet decision of Direct Server Return for one forwarder thread: which server a received
 * frame goes to, and the frame rewritten for it. Holds that thread's {@link FlowTable} and
 * {@link DsrCounters}; reads the shared {@link DsrTargets} once per frame (one volatile load).
 *
 * <p>For each frame, in this order: parse ({@link Ipv4Frame}); addressed to the interface's MAC,
 * to the virtual IP, TCP or UDP, to a DSR port (fragments after the first carry no port and pass)
 * — or an ICMP error about a packet a server sent from the virtual IP, see {@link #routeIcmpError};
 * can be sent (size, checksum, see {@link VnetHeader}); then the server — the flow's entry in the
 * table while its server keeps flows, else the Maglev pick among servers taking new flows, stored
 * for the next packets — and the MAC rewrite ({@link FrameRewrite}). The result is counted. In a
 * cluster, during the grace period after a table change, a TCP packet of a flow the table does not
 * know that does not open a connection (no SYN) takes the previous table's pick instead (see
 * {@link DsrTargets}): the router moved that flow here from a node that picked under that table.
 *
 * <p><b>How a forwarder thread uses it.</b> One {@code DsrRouter} per thread, all sharing one
 * {@code AtomicReference<DsrTargets>} that the control plane sets when the pool or a MAC changes.
 * For each frame read from the packet socket (bound to {@code dsr.interface}, fanout by flow hash),
 * call {@link #route} with the frame's place in the receive buffer and {@link System#nanoTime()}
 * (read once per batch is enough); on {@link PacketResult#FORWARDED} send the same bytes on the same
 * interface, else drop the frame. When the sending socket has {@code PACKET_VNET_HDR}, every frame
 * sent needs the 10-byte header in front: the received one, handed on unchanged (or
 * {@link VnetHeader#writeNone} when the receiving socket has none). Nothing allocates, blocks or
 * locks.
 *
 * <p>Not thread-safe: confined to its forwarder thread; {@link #counters()} and
 * {@link FlowTable#evictions()} may be read from any thread.
 */
public final class DsrRouter {

    /** A vnet header index meaning: the frame has none. */
    public static final int NO_VNET_HEADER = -1;

    private final AtomicReference<DsrTargets> targets;
    private final int virtualIp;
    private final long ownMac;
    private final long[] ports = new long[65536 / 64];
    private final int maxFrameLength;
    private final boolean vnetHeaderOnSend;
    private final long tcpIdleNanos;
    private final long udpIdleNanos;
    private final FlowTable flows;
    private final Ipv4Frame frame = new Ipv4Frame();
    private final DsrCounters counters = new DsrCounters();

    public DsrRouter(DsrSettings settings, AtomicReference<DsrTargets> targets) {
        this.targets = targets;
        this.virtualIp = settings.virtualIpBits();
        this.ownMac = settings.interfaceMac();
        for (int port : settings.ports()) {
            ports[port >>> 6] |= 1L << port;
        }
        this.maxFrameLength = settings.mtu() + Ipv4Frame.ETHERNET_HEADER_LENGTH;
        this.vnetHeaderOnSend = settings.vnetHeaderOnSend();
        this.tcpIdleNanos = settings.tcpIdleTimeout().toNanos();
        this.udpIdleNanos = settings.udpIdleTimeout().toNanos();
        this.flows = new FlowTable(settings.flowCapacity());
    }

    /**
     * Decides for one frame without a virtio_net_hdr and, when it is to be forwarded, rewrites it
     * in place. Same as {@code route(buffer, NO_VNET_HEADER, frameStart, frameEnd, nowNanos)}.
     */
    public PacketResult route(ByteBuffer buffer, int frameStart, int frameEnd, long nowNanos) {
        return route(buffer, NO_VNET_HEADER, frameStart, frameEnd, nowNanos);
    }

    /**
     * Decides for one frame and, when it is to be forwarded, rewrites it in place (and, without
     * {@code vnetHeaderOnSend}, finishes its checksum). Counts the result.
     *
     * @param buffer      big-endian; absolute indices, position and limit are not used or changed
     * @param vnetHeaderAt the frame's virtio_net_hdr (absolute), or {@link #NO_VNET_HEADER}
     * @param frameStart  the Ethernet header (absolute)
     * @param frameEnd    the frame's end (absolute)
     * @param nowNanos    {@link System#nanoTime()}, for flow idle expiry
     * @return {@link PacketResult#FORWARDED} when {@code buffer[frameStart, frameEnd)} is ready to
     *         send; any other result means drop it
     */
    public PacketResult route(ByteBuffer buffer, int vnetHeaderAt, int frameStart, int frameEnd, long nowNanos) {
        PacketResult result = decide(buffer, vnetHeaderAt, frameStart, frameEnd, nowNanos);
        counters.count(result);
        return result;
    }

    private PacketResult decide(ByteBuffer buffer, int vnetHeaderAt, int frameStart, int frameEnd, long nowNanos) {
        Ipv4Frame f = frame;
        if (!f.parse(buffer, frameStart, frameEnd)) {
            return f.failure();
        }
        if (f.destinationMac() != ownMac) {
            return PacketResult.NOT_OUR_MAC;
        }
        if (f.destinationAddress() != virtualIp) {
            return PacketResult.NOT_FOR_VIP;
        }
        int protocol = f.protocol();
        if (protocol == Ipv4Frame.ICMP && f.hasQuotedFlow()) {
            return routeIcmpError(buffer, vnetHeaderAt, frameStart, frameEnd, nowNanos);
        }
        if (protocol != Ipv4Frame.TCP && protocol != Ipv4Frame.UDP) {
            return PacketResult.NOT_TCP_UDP;
        }
        if (f.hasPorts() && !isDsrPort(f.destinationPort())) {
            return PacketResult.NOT_DSR_PORT;
        }
        PacketResult sendable = checkSendable(buffer, vnetHeaderAt, frameStart, frameEnd, f.packetEnd());
        if (sendable != PacketResult.FORWARDED) {
            return sendable;
        }
        DsrTargets t = targets.get();
        long keyHigh = f.keyHigh();
        long keyLow = f.keyLow();
        long hash = FlowKey.hash(keyHigh, keyLow);
        int entry = flows.lookupOrInsert(keyHigh, keyLow, hash, nowNanos,
                protocol == Ipv4Frame.TCP ? tcpIdleNanos : udpIdleNanos);
        int slot = entry >= 0 ? t.slotKeeping(flows.target(entry)) : -1;
        if (slot < 0) { // a new flow, or its server went down or left: (re)pick
            boolean moved = entry >= 0;
            if (!moved) {
                entry = -entry - 1;
                // unknown here yet already under way: moved by the router from a node that picked
                // under the previous table, while it still serves (a cluster's grace period)
                if (protocol == Ipv4Frame.TCP && !f.startsTcpConnection()) {
                    slot = t.pickPrevious(hash, nowNanos);
                }
            }
            if (slot >= 0) {
                counters.graceFlow();
            } else {
                slot = t.pick(hash);
                if (slot < 0) {
                    flows.forget(entry, nowNanos);
                    return PacketResult.NO_SERVER;
                }
                if (moved) {
                    counters.movedFlow();
                } else {
                    counters.newFlow();
                }
            }
            flows.setTarget(entry, t.target(slot));
        }
        return rewriteFor(t, slot, buffer, frameStart);
    }

    /**
     * An ICMP error about a packet a server sent from the virtual IP (a router on the way to the
     * client could not forward it: "fragmentation needed" is what path MTU discovery lives on) goes
     * to that server, or its connection would stall on a path with a smaller MTU. The server is the
     * flow's entry in this thread's table; the kernel's fanout hashes the ICMP packet, not the flow,
     * so it may reach another forwarder thread, whose table lacks the flow: then the Maglev pick,
     * which names the same server unless the pool changed since the flow began. Nothing is stored.
     */
    private PacketResult routeIcmpError(ByteBuffer buffer, int vnetHeaderAt, int frameStart, int frameEnd,
                                        long nowNanos) {
        Ipv4Frame f = frame;
        if (f.quotedSourceAddress() != virtualIp) {
            return PacketResult.NOT_TCP_UDP; // about a packet the servers did not send as DSR
        }
        if (!isDsrPort(f.quotedSourcePort())) {
            return PacketResult.NOT_DSR_PORT;
        }
        PacketResult sendable = checkSendable(buffer, vnetHeaderAt, frameStart, frameEnd, f.packetEnd());
        if (sendable != PacketResult.FORWARDED) {
            return sendable;
        }
        DsrTargets t = targets.get();
        long keyHigh = f.quotedKeyHigh();
        long keyLow = f.quotedKeyLow();
        long hash = FlowKey.hash(keyHigh, keyLow);
        int entry = flows.find(keyHigh, keyLow, hash, nowNanos);
        int slot = entry >= 0 ? t.slotKeeping(flows.target(entry)) : -1;
        if (slot < 0) {
            slot = t.pick(hash);
            if (slot < 0) {
                return PacketResult.NO_SERVER;
            }
        }
        return rewriteFor(t, slot, buffer, frameStart);
    }

    private boolean isDsrPort(int port) {
        return (ports[port >>> 6] & 1L << port) != 0;
    }

    /** Addresses the frame to the slot's server, or {@link PacketResult#NO_MAC} while its MAC is unknown. */
    private PacketResult rewriteFor(DsrTargets t, int slot, ByteBuffer buffer, int frameStart) {
        long serverMac = t.mac(slot);
        if (!MacAddress.isKnown(serverMac)) {
            return PacketResult.NO_MAC;
        }
        FrameRewrite.rewrite(buffer, frameStart, serverMac, ownMac);
        return PacketResult.FORWARDED;
    }

    /**
     * {@link PacketResult#FORWARDED} when the frame can be sent as the settings say, else why not.
     * With a vnet header handed on, GSO frames may exceed the MTU (the kernel segments them);
     * without, checksums are finished here and GSO frames cannot go.
     */
    private PacketResult checkSendable(ByteBuffer buffer, int vnetHeaderAt, int frameStart, int frameEnd,
                                       int packetEnd) {
        boolean hasHeader = vnetHeaderAt != NO_VNET_HEADER;
        boolean gso = hasHeader && VnetHeader.isGso(buffer, vnetHeaderAt);
        if (gso ? !vnetHeaderOnSend : frameEnd - frameStart > maxFrameLength) {
            return PacketResult.TOO_BIG;
        }
        if (hasHeader && !vnetHeaderOnSend && !VnetHeader.completeChecksum(buffer, vnetHeaderAt, frameStart, packetEnd)) {
            return PacketResult.MALFORMED;
        }
        return PacketResult.FORWARDED;
    }

    /** This thread's counters; readable from any thread. */
    public DsrCounters counters() {
        return counters;
    }

    /** This thread's flow table (for its capacity and {@link FlowTable#evictions()}). */
    public FlowTable flows() {
        return flows;
    }
}
