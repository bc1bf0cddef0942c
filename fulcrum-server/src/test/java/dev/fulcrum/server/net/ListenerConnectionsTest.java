package dev.fulcrum.server.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A listener's graceful close on stand-in channels: each open client connection is told, the close
 * completes when the last tracked connection closes (a TCP session's server connection included),
 * and at the timeout what is left is closed; a connection that arrives during the close is refused.
 */
class ListenerConnectionsTest {

    private static final Duration LONG = Duration.ofMinutes(1);

    private final ListenerConnections connections = new ListenerConnections();
    private final List<Object> signals = new ArrayList<>();

    private EmbeddedChannel client() {
        EmbeddedChannel ch = new EmbeddedChannel(DefaultChannelId.newInstance(), new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                signals.add(evt);
            }
        });
        assertThat(connections.admit(ch)).isTrue();
        return ch;
    }

    /** A channel of its own id: a group tells channels apart by id, and all plain EmbeddedChannels share one. */
    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(DefaultChannelId.newInstance());
    }

    @Test
    void countsOpenClientConnectionsButNotTheirServerConnections() {
        EmbeddedChannel a = client();
        client();
        connections.addServerConnection(channel());
        assertThat(connections.open()).isEqualTo(2);
        a.close();
        assertThat(connections.open()).isEqualTo(1);
    }

    @Test
    void withNothingOpenTheCloseIsDoneAtOnce() {
        assertThat(connections.closeGracefully(LONG)).isDone();
        assertThat(connections.isClosing()).isTrue();
    }

    @Test
    void tellsEachClientAndCompletesWhenTheLastTrackedConnectionCloses() {
        EmbeddedChannel a = client();
        EmbeddedChannel b = client();
        EmbeddedChannel server = channel();
        connections.addServerConnection(server);

        CompletableFuture<Void> closed = connections.closeGracefully(LONG);

        assertThat(signals).containsExactly(ListenerConnections.GRACEFUL_CLOSE, ListenerConnections.GRACEFUL_CLOSE);
        a.close();
        b.close();
        assertThat(closed).as("a session's server connection still delivers").isNotDone();
        server.close();
        assertThat(closed).isDone();
        assertThat(connections.open()).isZero();
    }

    @Test
    void atTheTimeoutClosesWhatIsLeft() {
        EmbeddedChannel busy = client();
        EmbeddedChannel server = channel();
        connections.addServerConnection(server);

        CompletableFuture<Void> closed = connections.closeGracefully(Duration.ofMillis(50));

        await().atMost(Duration.ofSeconds(5)).until(closed::isDone);
        assertThat(busy.isOpen()).isFalse();
        assertThat(server.isOpen()).isFalse();
    }

    @Test
    void aConnectionAcceptedDuringTheCloseIsRefused() {
        EmbeddedChannel a = client();
        CompletableFuture<Void> closed = connections.closeGracefully(LONG);
        EmbeddedChannel late = channel();

        assertThat(connections.admit(late)).isFalse();
        late.close(); // as the listener does with a refused connection
        assertThat(signals).hasSize(1);
        assertThat(closed).isNotDone();
        a.close();
        assertThat(closed).isDone();
        assertThat(connections.open()).isZero();
    }

    @Test
    void aSecondCloseCompletesWithTheFirst() {
        EmbeddedChannel a = client();
        CompletableFuture<Void> first = connections.closeGracefully(LONG);
        CompletableFuture<Void> second = connections.closeGracefully(LONG);
        a.close();
        assertThat(first).isDone();
        assertThat(second).isSameAs(first);
    }
}
