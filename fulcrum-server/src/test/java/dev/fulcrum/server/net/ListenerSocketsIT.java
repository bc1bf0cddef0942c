package dev.fulcrum.server.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * A listener's sockets on real loopback sockets: with a native transport every worker loop accepts
 * (and serves what it accepted); a taken port fails the bind even for a socket that would share it
 * ({@code SO_REUSEPORT}); {@code max-connections} holds over all the sockets at once.
 */
class ListenerSocketsIT {

    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** Each accepted connection: the loop that serves it, and the loop of the socket that accepted it. */
    private final Set<List<EventLoop>> loops = ConcurrentHashMap.newKeySet();
    /** Accepted connections, open ones and some closed; guarded by itself. */
    private final List<Channel> accepted = new ArrayList<>();
    private int mostOpen;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private Transport transport(Transport.Kind kind, int loops) {
        Transport t = Transport.create(kind, loops);
        toClose.add(t);
        return t;
    }

    /** Sockets whose connections answer each byte with one byte and record their loops. */
    private ListenerSockets bind(Transport transport, ConnectionLimit limit, int port) {
        ListenerSockets sockets = ListenerSockets.bind(transport, template(), limit, "127.0.0.1", port).join();
        toClose.add(sockets::close);
        return sockets;
    }

    private ServerBootstrap template() {
        return new ServerBootstrap().childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                loops.add(List.of(ch.eventLoop(), ch.parent().eventLoop()));
                synchronized (accepted) { // a channel is no longer open before its slot is given back
                    accepted.removeIf(c -> !c.isOpen());
                    accepted.add(ch);
                    mostOpen = Math.max(mostOpen, accepted.size());
                }
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ((ByteBuf) msg).release();
                        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('k'));
                    }
                });
            }
        });
    }

    private static void exchangeOneByte(InetSocketAddress address) throws Exception {
        try (Socket s = new Socket()) {
            s.setSoTimeout(10_000);
            s.connect(address, 5_000);
            s.getOutputStream().write('x');
            InputStream in = s.getInputStream();
            assertThat(in.read()).isEqualTo('k');
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING"})
    void withANativeTransportEveryLoopAcceptsAndServesWhatItAccepted(Transport.Kind kind) throws Exception {
        assumeThat(kind.isAvailable()).as(kind.label() + " loads here").isTrue();
        Transport transport = transport(kind, 2);
        ListenerSockets sockets = bind(transport, ConnectionLimit.of("web", 0), 0);
        assertThat(sockets.size()).isEqualTo(2);
        for (int i = 0; i < 64; i++) { // the kernel spreads connections by their source port
            exchangeOneByte(sockets.localAddress());
        }
        assertThat(loops).as("(serving loop, accepting loop) pairs").containsExactlyInAnyOrder(
                List.of(transport.workerLoops().get(0), transport.workerLoops().get(0)),
                List.of(transport.workerLoops().get(1), transport.workerLoops().get(1)));
    }

    @Test
    void withNioOneAcceptThreadHandsConnectionsToTheWorkers() throws Exception {
        Transport transport = transport(Transport.Kind.NIO, 2);
        ListenerSockets sockets = bind(transport, ConnectionLimit.of("web", 0), 0);
        assertThat(sockets.size()).isEqualTo(1);
        for (int i = 0; i < 8; i++) {
            exchangeOneByte(sockets.localAddress());
        }
        assertThat(loops).allMatch(pair -> pair.get(0) != pair.get(1)
                && transport.workerLoops().contains(pair.get(0)));
    }

    @ParameterizedTest
    @EnumSource(Transport.Kind.class)
    void aPortThatAnotherReusePortSocketListensOnIsInUse(Transport.Kind kind) throws Exception {
        Transport transport = transport(kind, 2); // (falls back to what loads here)
        try (ServerSocket other = new ServerSocket()) {
            other.setOption(StandardSocketOptions.SO_REUSEPORT, true); // would share with ours if ours did not probe
            other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            assertThat(ListenerSockets.bind(transport, template(), ConnectionLimit.of("web", 0),
                    "127.0.0.1", other.getLocalPort()))
                    .failsWithin(Duration.ofSeconds(5)).withThrowableThat().havingRootCause()
                    .isInstanceOf(BindException.class).withMessageContaining("Address already in use");
        }
    }

    @Test
    void aSecondListenerOnTheSamePortFailsAndTheFirstGoesOn() throws Exception {
        Transport transport = transport(Transport.Kind.EPOLL, 2);
        ListenerSockets first = bind(transport, ConnectionLimit.of("web", 0), 0);
        assertThat(ListenerSockets.bind(transport, template(), ConnectionLimit.of("web", 0),
                "127.0.0.1", first.localAddress().getPort()))
                .failsWithin(Duration.ofSeconds(5)).withThrowableThat()
                .satisfies(e -> assertThat(BindFailure.describe(e.getCause())).isEqualTo("address already in use"));
        assertThat(first.isAccepting()).isTrue();
        exchangeOneByte(first.localAddress());

        first.close();
        assertThat(first.isAccepting()).isFalse();
        try (ServerSocket again = new ServerSocket()) { // every socket closed: the port is free
            again.bind(first.localAddress());
        }
    }

    /**
     * Many clients at once, each a short connection, against a limit of 3 over two sockets: never
     * more than 3 open, and every client is served in the end (no socket stays paused).
     */
    @ParameterizedTest
    @EnumSource(Transport.Kind.class)
    void maxConnectionsHoldsOverAllTheSocketsOfAListener(Transport.Kind kind) throws Exception {
        assumeThat(kind.isAvailable()).as(kind.label() + " loads here").isTrue();
        Transport transport = transport(kind, 2);
        ListenerSockets sockets = bind(transport, ConnectionLimit.of("web", 3), 0);
        ExecutorService clients = Executors.newFixedThreadPool(12);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 12; c++) {
                done.add(clients.submit(() -> {
                    for (int i = 0; i < 15; i++) {
                        exchangeOneByte(sockets.localAddress());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        synchronized (accepted) {
            assertThat(mostOpen).isBetween(1, 3);
        }
        if (transport.acceptsOnEveryLoop()) {
            assertThat(loops.stream().map(List::getLast).distinct()).as("both sockets accepted").hasSize(2);
        }
        exchangeOneByte(sockets.localAddress()); // accepting again after the last pause
    }
}
