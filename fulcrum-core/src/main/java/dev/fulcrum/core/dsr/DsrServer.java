package dev.fulcrum.core.dsr;

import dev.fulcrum.core.balance.WeightedServer;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * One server as DSR sees it: its name (the pool's {@code host:port} id, which is also its Maglev
 * name, so DSR and the proxy's {@code maglev} algorithm agree on a pool), its MAC address, its
 * weight and where it stands.
 *
 * <p>The spec's rule — "a down server gets no new flows; its existing flows are moved only when it
 * is down" — is two flags, because moving a flow always breaks its connection (the new server
 * answers the next segment with a reset): a server gets new flows only while {@code inRotation}
 * with a weight above 0 and a known MAC; its flows move away only when it is {@code down} or left
 * the list. Draining, ejected (outlier detection), weight 0 or a lost MAC stop new flows but keep
 * the existing ones where they are.
 *
 * @param mac        {@link MacAddress#UNKNOWN} until learned (neighbour table or ARP)
 * @param weight     0..256, as in the pool; 0 = no new flows
 * @param inRotation the pool would send it new requests (up, not draining)
 * @param down       its health checks failed: its flows are moved
 */
public record DsrServer(String name, long mac, int weight, boolean inRotation, boolean down) {

    public DsrServer {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a DSR server needs a name");
        }
        dev.fulcrum.core.pool.Server.checkWeight(weight);
        if (mac != MacAddress.UNKNOWN && !MacAddress.isKnown(mac)) {
            throw new IllegalArgumentException("MAC 0x" + Long.toHexString(mac) + " has more than 48 bits");
        }
    }

    /** True when the server may be picked for a new flow. */
    public boolean acceptsNewFlows() {
        return inRotation && !down && weight > 0 && MacAddress.isKnown(mac);
    }

    /**
     * The DSR view of every registered server of a pool snapshot, in the snapshot's order: in
     * rotation with the balancer's (slow-start) weight when the snapshot's balancer has it, else
     * with its configured weight; down when its health is {@code down}.
     *
     * @param macOf a server's MAC, or {@link MacAddress#UNKNOWN}
     */
    public static List<DsrServer> of(PoolSnapshot snapshot, ToLongFunction<Server> macOf) {
        Map<Server, Integer> rotation = new IdentityHashMap<>();
        for (WeightedServer ws : snapshot.balancer().servers()) {
            rotation.put(ws.server(), ws.weight());
        }
        List<DsrServer> out = new ArrayList<>(snapshot.servers().size());
        for (Server s : snapshot.servers()) {
            Integer weight = rotation.get(s);
            out.add(new DsrServer(s.id(), macOf.applyAsLong(s), weight != null ? weight : s.weight(),
                    weight != null, s.health() == ServerState.DOWN));
        }
        return out;
    }
}
