package dev.fulcrum.server.net;

import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * max-connections step by step on a stand-in server channel: accepted connections pass until the
 * limit, then accepting pauses; connections a transport accepted in the same batch are held, not
 * closed, and pass one per close; accepting resumes once a slot is free and nothing is held; one
 * limit holds over several sockets.
 */
class ConnectionLimitTest {

    private final List<Object> passed = new ArrayList<>();
    private final EmbeddedChannel server = new EmbeddedChannel(ConnectionLimit.of("web", 2).newHandler(),
            new io.netty.channel.ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                    passed.add(msg); // stands for the bootstrap's acceptor
                }
            });

    private Channel accepted() {
        EmbeddedChannel child = new EmbeddedChannel();
        server.writeInbound(child);
        return child;
    }

    @Test
    void atTheLimitAcceptingPausesAndResumesWhenOneCloses() {
        Channel a = accepted();
        assertThat(server.config().isAutoRead()).isTrue();
        Channel b = accepted();
        assertThat(passed).containsExactly(a, b);
        assertThat(server.config().isAutoRead()).as("paused at the limit").isFalse();

        a.close();
        assertThat(server.config().isAutoRead()).as("a slot is free: accepting again").isTrue();
        Channel c = accepted();
        assertThat(passed).containsExactly(a, b, c);
        assertThat(server.config().isAutoRead()).isFalse();
    }

    @Test
    void connectionsAcceptedInTheBatchThatReachedTheLimitWaitTheirTurn() {
        Channel a = accepted();
        Channel b = accepted();
        Channel c = accepted(); // NIO may accept a batch before the pause takes effect
        Channel d = accepted();
        assertThat(passed).containsExactly(a, b);
        assertThat(c.isOpen()).as("held, not closed").isTrue();

        b.close();
        assertThat(passed).containsExactly(a, b, c);
        assertThat(server.config().isAutoRead()).as("still full").isFalse();
        a.close();
        assertThat(passed).containsExactly(a, b, c, d);
        assertThat(server.config().isAutoRead()).isFalse();
        c.close();
        assertThat(server.config().isAutoRead()).isTrue();
    }

    @Test
    void heldConnectionsAreClosedWhenTheListenerStops() {
        accepted();
        accepted();
        Channel held = accepted();
        server.close();
        assertThat(held.isOpen()).isFalse();
    }

    /** One listener's limit over two listening sockets (one per event loop with SO_REUSEPORT). */
    @Test
    void oneLimitHoldsOverAllTheSocketsOfAListener() {
        ConnectionLimit limit = ConnectionLimit.of("web", 2);
        List<Object> seen = new ArrayList<>();
        EmbeddedChannel first = socket(limit, seen);
        EmbeddedChannel second = socket(limit, seen);
        Channel a = accept(first);
        assertThat(second.config().isAutoRead()).isTrue();
        Channel b = accept(second);
        assertThat(seen).containsExactly(a, b);
        assertThat(first.config().isAutoRead()).as("every socket paused at the limit").isFalse();
        assertThat(second.config().isAutoRead()).isFalse();
        Channel c = accept(first); // in the batch that reached the limit: held

        b.close(); // a slot frees on the other socket: the held one takes it
        assertThat(seen).containsExactly(a, b, c);
        assertThat(first.config().isAutoRead()).isFalse();
        assertThat(second.config().isAutoRead()).isFalse();
        a.close();
        assertThat(first.config().isAutoRead()).as("below the limit: every socket accepts again").isTrue();
        assertThat(second.config().isAutoRead()).isTrue();
        assertThat(c.isOpen()).isTrue();
    }

    private static EmbeddedChannel socket(ConnectionLimit limit, List<Object> seen) {
        return new EmbeddedChannel(limit.newHandler(), new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                seen.add(msg);
            }
        });
    }

    private static Channel accept(EmbeddedChannel socket) {
        EmbeddedChannel child = new EmbeddedChannel();
        socket.writeInbound(child);
        return child;
    }

    @Test
    void withoutALimitEveryConnectionPasses() {
        List<Object> seen = new ArrayList<>();
        EmbeddedChannel unlimited = new EmbeddedChannel(ConnectionLimit.of("web", 0).newHandler(),
                new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        seen.add(msg);
                    }
                });
        for (int i = 0; i < 5; i++) {
            unlimited.writeInbound(new EmbeddedChannel());
        }
        assertThat(seen).hasSize(5);
        assertThat(unlimited.config().isAutoRead()).isTrue();
    }
}
