package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.Pick;
import dev.fulcrum.core.balance.StickyCookie;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import io.netty.channel.EventLoop;
import dev.fulcrum.server.http.message.MessageHead;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Which server one request goes to, try after try: the sticky cookie's server first (when the pool
 * has {@code sticky-cookie} and the request names a server in rotation), else the balancer's pick
 * over the snapshot taken when the request arrived, with the request's hash key when the algorithm
 * hashes. Servers already tried, and servers at {@code max-connections-per-server} with no idle
 * connection on this event loop, are excluded.
 *
 * <p>One instance per request, confined to its event loop.
 */
final class ServerChoice {

    private final PoolSnapshot snapshot;
    private final PoolConfig settings;
    private final ServerConnector connections;
    private final EventLoop loop;
    private final String stickyName;
    private final String stickyValue;
    private Pick pick;

    ServerChoice(PoolSnapshot snapshot, PoolConfig settings, ServerConnector connections, EventLoop loop,
                 MessageHead request, String clientIp) {
        this.snapshot = snapshot;
        this.settings = settings;
        this.connections = connections;
        this.loop = loop;
        long hash = snapshot.algorithm().usesHashKey()
                ? RequestKeys.hash(snapshot.hashKey(), request, clientIp) : 0L;
        this.pick = new Pick(hash, List.of(), ThreadLocalRandom.current());
        String name = settings.stickyCookie();
        this.stickyName = name == null ? "" : name;
        this.stickyValue = stickyName.isEmpty() ? null : RequestKeys.cookie(request, stickyName);
    }

    String poolName() {
        return snapshot.name();
    }

    /** True when the snapshot has a server in rotation at all (else: 503). */
    boolean anyServerUp() {
        return snapshot.hasServerUp();
    }

    /** The first server to try, or null when every server is at its connection limit. */
    Server first() {
        Server pinned = stickyValue == null ? null : StickyCookie.find(snapshot, stickyValue);
        return pinned != null && !atConnectionLimit(pinned) ? pinned : pickOne();
    }

    /** The next server after {@code failed}, never one tried before; null when none is left. */
    Server next(Server failed) {
        pick = pick.excluding(failed);
        return pickOne();
    }

    /**
     * The next server after {@code refused}, which did not process the request (HTTP/2 GOAWAY or
     * REFUSED_STREAM): another one when there is one, else {@code refused} again while it is in
     * rotation (the retry takes another stream or connection to it); null when none is left.
     */
    Server nextAfterRefusal(Server refused) {
        Server other = next(refused);
        return other != null || !refused.isInRotation() ? other : refused;
    }

    /** The {@code Set-Cookie} value pinning the client to {@code chosen}, or null when not needed. */
    String setCookieFor(Server chosen) {
        if (stickyName.isEmpty()) {
            return null;
        }
        String value = StickyCookie.valueFor(chosen);
        return value.equals(stickyValue) ? null : stickyName + "=" + value + "; Path=/; HttpOnly";
    }

    private Server pickOne() {
        while (true) {
            Server s = snapshot.pick(pick);
            if (s == null || !atConnectionLimit(s)) {
                return s;
            }
            pick = pick.excluding(s); // at its limit: treated like a server already tried
        }
    }

    private boolean atConnectionLimit(Server s) {
        int limit = settings.maxConnectionsPerServer();
        return limit > 0 && s.activeConnections() >= limit && !connections.hasIdle(loop, s);
    }
}
