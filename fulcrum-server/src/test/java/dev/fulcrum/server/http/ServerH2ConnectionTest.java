package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.core.pool.Server;

import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2SettingsFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A connection's life without a network: its readiness (the server's SETTINGS, within the connect
 * timeout), stream room, GOAWAY, PING liveness and idle timeout. Time is the channel's frozen clock
 * and the {@code now} given to {@link ServerH2Connection#sweep}.
 */
class ServerH2ConnectionTest {

    private static final long CONNECT_TIMEOUT = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long IDLE = TimeUnit.SECONDS.toNanos(60);
    private static final long PING_AFTER = TimeUnit.SECONDS.toNanos(15);

    private final Server server = new Server(new HostPort("127.0.0.1", 9), 1, ServerState.UP);
    private final List<Promise<Channel>> spilled = new ArrayList<>();
    private final List<Long> learned = new ArrayList<>();
    private boolean closedTold;
    private final ServerH2Connection.Owner owner = new ServerH2Connection.Owner() {
        @Override
        public void spill(ServerH2Connection from, Promise<Channel> stream) {
            spilled.add(stream);
        }

        @Override
        public void closed(ServerH2Connection c) {
            closedTold = true;
        }

        @Override
        public void learned(ServerH2Connection c, long maxStreams) {
            learned.add(maxStreams);
        }
    };
    private final ServerH2Connection connection = new ServerH2Connection(server, owner, null, 0, 2,
            CONNECT_TIMEOUT);
    private final EmbeddedChannel ch = newChannel();

    private EmbeddedChannel newChannel() {
        EmbeddedChannel c = new EmbeddedChannel();
        c.freezeTime();
        c.pipeline().addLast(connection);
        return c;
    }

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    private Promise<Channel> waiter() {
        return ch.eventLoop().newPromise();
    }

    private void settings(Long maxStreams) {
        Http2Settings s = new Http2Settings();
        if (maxStreams != null) {
            s.maxConcurrentStreams(maxStreams);
        }
        ch.writeInbound(new DefaultHttp2SettingsFrame(s));
    }

    /** Outbound frames of a kind, released. */
    private int pings() {
        int n = 0;
        for (Object m; (m = ch.readOutbound()) != null; ) {
            if (m instanceof Http2PingFrame p && !p.ack()) {
                n++;
            }
            ReferenceCountUtil.release(m);
        }
        return n;
    }

    @Test
    void startingItTakesWaitersUpToTheAssumedLimit() {
        assertThat(connection.hasRoom()).as("not ready before the server's SETTINGS").isFalse();
        assertThat(connection.startingWithRoom()).isTrue();
        connection.await(waiter());
        connection.await(waiter());
        assertThat(connection.startingWithRoom()).as("two waiters: the limit assumed for this server").isFalse();
    }

    @Test
    void startingItTakesNoMoreWaitersThanItsMaxRequests() {
        ServerH2Connection limited = new ServerH2Connection(server, owner, null, 1, 2, CONNECT_TIMEOUT);
        EmbeddedChannel c = new EmbeddedChannel();
        c.freezeTime();
        c.pipeline().addLast(limited);
        try {
            assertThat(limited.startingWithRoom()).isTrue();
            limited.await(c.eventLoop().newPromise());
            assertThat(limited.startingWithRoom()).as("max-requests-per-connection 1, below the assumed 2").isFalse();
        } finally {
            c.finishAndReleaseAll();
        }
    }

    @Test
    void waitersBeyondTheAnnouncedLimitGoBackToThePool() {
        Promise<Channel> a = waiter();
        Promise<Channel> b = waiter();
        connection.await(a);
        connection.await(b);
        settings(0L); // no stream at all: both must find room elsewhere
        assertThat(learned).containsExactly(0L);
        assertThat(spilled).containsExactly(a, b);
        assertThat(connection.hasRoom()).isFalse();
    }

    @Test
    void notReadyWithinTheConnectTimeoutFailsItsWaiters() {
        Promise<Channel> a = waiter();
        connection.await(a);
        ch.advanceTimeBy(CONNECT_TIMEOUT, TimeUnit.NANOSECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(a.cause()).isInstanceOf(ConnectTimeoutException.class);
        assertThat(closedTold).isTrue();
    }

    @Test
    void goAwayEndsNewStreamsAndClosesTheUnusedConnection() {
        settings(100L);
        assertThat(connection.hasRoom()).isTrue();
        ch.writeInbound(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        assertThat(connection.hasRoom()).isFalse();
        assertThat(ch.isOpen()).as("no stream left on it").isFalse();
    }

    @Test
    void anIdleConnectionGetsAPingAndClosesWhenItIsNotAnswered() {
        settings(null);
        long t0 = System.nanoTime();
        connection.sweep(t0, IDLE, PING_AFTER);
        assertThat(pings()).as("not silent long enough yet").isZero();
        connection.sweep(t0 + PING_AFTER, IDLE, PING_AFTER);
        assertThat(pings()).isEqualTo(1);
        connection.sweep(t0 + PING_AFTER + CONNECT_TIMEOUT / 2, IDLE, PING_AFTER);
        assertThat(ch.isOpen()).isTrue();
        connection.sweep(t0 + PING_AFTER + CONNECT_TIMEOUT, IDLE, PING_AFTER);
        assertThat(ch.isOpen()).as("no answer within the connect timeout").isFalse();
    }

    @Test
    void anAnsweredPingKeepsTheConnectionUntilItsIdleTimeout() {
        settings(null);
        long t0 = System.nanoTime();
        connection.sweep(t0 + PING_AFTER, IDLE, PING_AFTER);
        assertThat(pings()).isEqualTo(1);
        ch.writeInbound(new DefaultHttp2PingFrame(42, true));
        connection.sweep(t0 + PING_AFTER + CONNECT_TIMEOUT * 2, IDLE, PING_AFTER);
        assertThat(ch.isOpen()).isTrue();
        connection.sweep(t0 + IDLE, IDLE, PING_AFTER);
        assertThat(ch.isOpen()).as("unused for the idle timeout").isFalse();
    }
}
