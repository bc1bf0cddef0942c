package dev.fulcrum.server.registry;

import dev.fulcrum.core.pool.Server;

import java.time.Instant;

/**
 * Something that happened to the pools, servers or the instance, as the control thread reports it
 * to its listeners (the events stream, alerts, metrics, health checks, slow start, the
 * auto-scaler, DSR). Events carry the pool and server objects, not names, so a listener never
 * looks them up again (and never finds a different server registered under the same address).
 *
 * <p>A listener reacts with a {@code switch} over this sealed type and no {@code default}: adding
 * an event type breaks the build of every listener that has not decided about it. The four
 * families ({@link ServerEvent}, {@link ScaleEvent}, {@link HaEvent}, {@link ConfigReloaded},
 * {@link ClusterEvent}) let
 * a listener pass over a whole family in one case.
 *
 * <p>{@link #wireName()} is the event's type in admin-api.md (the SSE {@code event:} line, the
 * JSON's {@code type}), one exhaustive switch, so a new record cannot go without one;
 * {@link #wire()} is its JSON view. Events are delivered on the control
 * thread, after the snapshot that reflects them is published. Immutable.
 */
public sealed interface PoolEvent permits PoolEvent.ServerEvent, PoolEvent.ScaleEvent, PoolEvent.HaEvent,
        PoolEvent.ConfigReloaded, PoolEvent.ClusterEvent {

    Instant at();

    /** What happened, for people: the events stream's {@code detail}, an alert's description. */
    String detail();

    /** The type as admin-api.md names it: {@code server-down}, {@code scale-out}, ... */
    default String wireName() {
        return switch (this) {
            case ServerAdded _ -> "server-added";
            case ServerRemoved _ -> "server-removed";
            case ServerUp _ -> "server-up";
            case ServerDown _ -> "server-down";
            case ServerEjected _ -> "server-ejected";
            case ServerDraining _ -> "server-draining";
            case ServerEnabled _ -> "server-enabled";
            case WeightChanged _ -> "server-weight-changed";
            case MacLearned _ -> "dsr-mac-learned";
            case MacLost _ -> "dsr-mac-lost";
            case ScaledOut _ -> "scale-out";
            case ScaledIn _ -> "scale-in";
            case ScaleOutFailed _ -> "scale-out-failed";
            case ScaleInFailed _ -> "scale-in-failed";
            case HaMaster _ -> "ha-master";
            case HaBackup _ -> "ha-backup";
            case HaFault _ -> "ha-fault";
            case ConfigReloaded _ -> "config-reloaded";
            case MemberJoined _ -> "cluster-member-joined";
            case MemberLeft _ -> "cluster-member-left";
            case EtcdUnavailable _ -> "cluster-etcd-unavailable";
            case EtcdAvailable _ -> "cluster-etcd-available";
            case ConfigApplied _ -> "config-applied";
        };
    }

    /** The pool concerned; null for instance-wide events (HA, reload) and a failure of a pool gone. */
    PoolRuntime pool();

    /** The server concerned; null for pool-wide and instance-wide events. */
    Server server();

    /** The event as the events stream and the logs show it (names, "" for none). */
    default RegistryEvent wire() {
        return new RegistryEvent(at(), wireName(), pool() == null ? "" : pool().name(),
                server() == null ? "" : server().id(), detail());
    }

    /** An event about one server of one pool; both are non-null. */
    sealed interface ServerEvent extends PoolEvent permits ServerAdded, ServerRemoved, ServerUp, ServerDown,
            ServerEjected, ServerDraining, ServerEnabled, WeightChanged, MacLearned, MacLost {
    }

    /** The auto-scaler acted, or failed to. */
    sealed interface ScaleEvent extends PoolEvent permits ScaledOut, ScaledIn, ScaleOutFailed, ScaleInFailed {
    }

    /** This instance's VRRP state changed; no pool, no server. */
    sealed interface HaEvent extends PoolEvent permits HaMaster, HaBackup, HaFault {
        @Override
        default PoolRuntime pool() {
            return null;
        }

        @Override
        default Server server() {
            return null;
        }
    }

    /** Registered; {@code checking} until a check passes when the pool is checked, else up. */
    record ServerAdded(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** Forgotten after its drain (idle, or {@code drain-timeout} passed). */
    record ServerRemoved(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** Back in rotation by health: first pass, recovery, end of an ejection. */
    record ServerUp(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** Failed its active health checks. */
    record ServerDown(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** Taken out by passive outlier detection for a while. */
    record ServerEjected(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** No new requests (drain, or a removal that has started). */
    record ServerDraining(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** A drained server back into rotation (subject to health), by the API or a reload listing it again. */
    record ServerEnabled(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** A reload changed the server's configured weight. */
    record WeightChanged(Instant at, PoolRuntime pool, Server server, int from, int to, String detail)
            implements ServerEvent {
    }

    /** DSR's forwarders learned the server's MAC: it can take flows. */
    record MacLearned(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** DSR's forwarders lost the server's MAC: its packets are dropped until it is learned again. */
    record MacLost(Instant at, PoolRuntime pool, Server server, String detail) implements ServerEvent {
    }

    /** The auto-scaler added {@code server}. */
    record ScaledOut(Instant at, PoolRuntime pool, Server server, String detail) implements ScaleEvent {
    }

    /** The auto-scaler started removing {@code server}. */
    record ScaledIn(Instant at, PoolRuntime pool, Server server, String detail) implements ScaleEvent {
    }

    /** A provisioner could not start a server; {@code pool} is null when the pool went meanwhile. */
    record ScaleOutFailed(Instant at, PoolRuntime pool, String detail) implements ScaleEvent {
        @Override
        public Server server() {
            return null;
        }
    }

    /** A provisioner could not stop a server; {@code pool} is null when the pool went meanwhile. */
    record ScaleInFailed(Instant at, PoolRuntime pool, String detail) implements ScaleEvent {
        @Override
        public Server server() {
            return null;
        }
    }

    record HaMaster(Instant at, String detail) implements HaEvent {
    }

    record HaBackup(Instant at, String detail) implements HaEvent {
    }

    record HaFault(Instant at, String detail) implements HaEvent {
    }

    /** A reload was applied ({@code detail} "applied", or the listeners that failed to bind). */
    record ConfigReloaded(Instant at, String detail) implements PoolEvent {
        @Override
        public PoolRuntime pool() {
            return null;
        }

        @Override
        public Server server() {
            return null;
        }
    }

    /** The cluster (spec cluster.md): its members, etcd's reachability, a revision applied; no pool, no server. */
    sealed interface ClusterEvent extends PoolEvent permits MemberJoined, MemberLeft, EtcdUnavailable, EtcdAvailable,
            ConfigApplied {
        @Override
        default PoolRuntime pool() {
            return null;
        }

        @Override
        default Server server() {
            return null;
        }
    }

    /** {@code node} registered in the member list (its lease-bound key appeared). */
    record MemberJoined(Instant at, String node, String detail) implements ClusterEvent {
    }

    /**
     * {@code node} left the member list: {@code stopped} when it said so before leaving (a graceful
     * stop), else its lease expired (it died, hung, or lost etcd).
     */
    record MemberLeft(Instant at, String node, boolean stopped, String detail) implements ClusterEvent {
    }

    /** This node cannot reach etcd (no quorum, no member answering): it keeps serving its last applied state. */
    record EtcdUnavailable(Instant at, String detail) implements ClusterEvent {
    }

    /** This node reaches etcd again. */
    record EtcdAvailable(Instant at, String detail) implements ClusterEvent {
    }

    /** This node applied the shared config as of etcd {@code revision}. */
    record ConfigApplied(Instant at, long revision, String detail) implements ClusterEvent {
    }
}
