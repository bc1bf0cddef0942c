package dev.fulcrum.core.dsr;

import dev.fulcrum.core.balance.Hashing;

/**
 * A flow's identity, the IPv4 5-tuple, packed into two {@code long}s so that the flow table keys on
 * primitives: {@code high} = source address, destination address; {@code low} = source port,
 * destination port, protocol. The protocol (6 or 17) sits in the low byte, so {@code low} is never
 * 0 — the flow table's mark of an empty entry.
 *
 * <p>{@link #hash} is the flow hash that both picks the server (Maglev slot) and homes the flow in
 * the table. It is pinned (tests hold its values): every forwarder thread, every restart and the
 * HA backup must map a flow to the same server, so that a flow the table forgot (evicted, expired,
 * or a fresh instance after failover) still reaches its server while the pool is unchanged.
 *
 * <p>Fragmented packets are keyed with both ports 0 (see {@link Ipv4Frame}).
 */
final class FlowKey {

    /** Mixes the two halves before the finalizer (the 64-bit golden ratio, odd: a bijection). */
    private static final long MIX = 0x9E3779B97F4A7C15L;

    private FlowKey() {
    }

    static long high(int sourceAddress, int destinationAddress) {
        return (long) sourceAddress << 32 | (destinationAddress & 0xFFFF_FFFFL);
    }

    static long low(int sourcePort, int destinationPort, int protocol) {
        return (long) sourcePort << 32 | (long) destinationPort << 16 | protocol;
    }

    static long hash(long high, long low) {
        return Hashing.fmix64(high * MIX ^ low);
    }
}
