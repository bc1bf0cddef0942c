package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A classic BPF socket filter ({@code struct sock_filter[]}, attached with
 * {@code SO_ATTACH_FILTER}): the kernel runs it on every frame before it reaches the packet socket
 * and drops what it rejects, so the forwarder never sees traffic that is not its own.
 *
 * <p>On a packet socket ({@code SOCK_RAW}) the offsets count from the Ethernet header, with or
 * without {@code PACKET_VNET_HDR}: the kernel runs the filter on the frame, before it writes the
 * virtio_net_hdr in front of it in the ring.
 *
 * <p>Immutable; any thread.
 */
public final class BpfFilter {

    /** {@code struct sock_filter}: u16 code, u8 jt, u8 jf, u32 k, in the host's byte order. */
    private static final int INSTRUCTION_LENGTH = 8;
    private static final int LD_W_ABS = 0x20;
    private static final int LD_H_ABS = 0x28;
    private static final int JEQ_K = 0x15;
    private static final int RET_K = 0x06;
    /** The snap length of an accepted frame: all of it (a GSO frame may be 64 KiB and more). */
    private static final int ACCEPT = 0xFFFF_FFFF;
    private static final int DROP = 0;
    private static final ValueLayout.OfShort JAVA_SHORT_HOST = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    private static final ValueLayout.OfInt JAVA_INT_HOST = JAVA_INT_UNALIGNED.withOrder(ByteOrder.nativeOrder());

    private final long[] instructions;
    private final String description;

    private BpfFilter(String description, long... instructions) {
        this.description = description;
        this.instructions = instructions;
    }

    /**
     * Accepts IPv4 frames to {@code virtualIp} addressed to {@code ownMac} (the interface's MAC):
     * Ethernet destination, then ethertype 0x0800, then IPv4 destination (frame offset 30; the
     * IPv4 header's options come after it, so its offset does not depend on the header length).
     * Drops everything else: ARP, other addresses, other hosts' frames seen in promiscuous mode or
     * flooded by a bridge.
     */
    public static BpfFilter ipv4To(Inet4Address virtualIp, byte[] ownMac) {
        if (ownMac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, got " + ownMac.length);
        }
        byte[] ip = virtualIp.getAddress();
        int macHigh = (ownMac[0] & 0xFF) << 24 | (ownMac[1] & 0xFF) << 16 | (ownMac[2] & 0xFF) << 8 | ownMac[3] & 0xFF;
        int macLow = (ownMac[4] & 0xFF) << 8 | ownMac[5] & 0xFF;
        int address = (ip[0] & 0xFF) << 24 | (ip[1] & 0xFF) << 16 | (ip[2] & 0xFF) << 8 | ip[3] & 0xFF;
        // BPF loads are big-endian, so the constants are the bytes as read on the wire
        return new BpfFilter("ipv4 to " + virtualIp.getHostAddress() + " at " + HexFormat.ofDelimiter(":").formatHex(ownMac),
                instruction(LD_W_ABS, 0, 0, 0),          // 0: destination MAC, first 4 bytes
                instruction(JEQ_K, 0, 7, macHigh),       // 1: else drop (9)
                instruction(LD_H_ABS, 0, 0, 4),          // 2: destination MAC, last 2 bytes
                instruction(JEQ_K, 0, 5, macLow),        // 3: else drop
                instruction(LD_H_ABS, 0, 0, 12),         // 4: ethertype
                instruction(JEQ_K, 0, 3, 0x0800),        // 5: IPv4, else drop
                instruction(LD_W_ABS, 0, 0, 14 + 16),    // 6: IPv4 destination address
                instruction(JEQ_K, 0, 1, address),       // 7: else drop
                instruction(RET_K, 0, 0, ACCEPT),        // 8
                instruction(RET_K, 0, 0, DROP));         // 9
    }

    /** Accepts every frame the socket's protocol lets through (for a socket that wants them all). */
    public static BpfFilter acceptAll() {
        return new BpfFilter("accept all", instruction(RET_K, 0, 0, ACCEPT));
    }

    /** Drops every frame: holds a socket silent until it has joined its fanout group. */
    static BpfFilter dropAll() {
        return new BpfFilter("drop all", instruction(RET_K, 0, 0, DROP));
    }

    private static long instruction(int code, int jumpTrue, int jumpFalse, int k) {
        return (long) code << 48 | (long) jumpTrue << 40 | (long) jumpFalse << 32 | (k & 0xFFFF_FFFFL);
    }

    /** The number of instructions. */
    public int length() {
        return instructions.length;
    }

    /** The program as the kernel reads it: {@code struct sock_filter[]} in the host's byte order. */
    public byte[] bytes() {
        byte[] out = new byte[instructions.length * INSTRUCTION_LENGTH];
        MemorySegment s = MemorySegment.ofArray(out);
        for (int i = 0; i < instructions.length; i++) {
            long insn = instructions[i];
            int at = i * INSTRUCTION_LENGTH;
            s.set(JAVA_SHORT_HOST, at, (short) (insn >>> 48));
            s.set(JAVA_BYTE, at + 2, (byte) (insn >>> 40));
            s.set(JAVA_BYTE, at + 3, (byte) (insn >>> 32));
            s.set(JAVA_INT_HOST, at + 4, (int) insn);
        }
        return out;
    }

    /** {@code struct sock_fprog} (length, pointer to the instructions), allocated in {@code arena}. */
    MemorySegment program(Arena arena) {
        byte[] code = bytes();
        MemorySegment filter = arena.allocate(code.length, 8);
        MemorySegment.copy(code, 0, filter, JAVA_BYTE, 0, code.length);
        MemorySegment fprog = arena.allocate(16, 8);
        fprog.set(JAVA_SHORT, 0, (short) instructions.length);
        fprog.set(ADDRESS, 8, filter);
        return fprog;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BpfFilter other && Arrays.equals(instructions, other.instructions);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(instructions);
    }

    /** What it accepts, e.g. {@code ipv4 to 10.0.0.100 at 02:00:00:00:00:0a (10 instructions)}. */
    @Override
    public String toString() {
        return description + " (" + instructions.length + " instructions)";
    }
}
