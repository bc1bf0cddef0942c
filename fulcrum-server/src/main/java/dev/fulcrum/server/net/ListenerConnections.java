package dev.fulcrum.server.net;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The open connections of one listener, HTTP or TCP, and their graceful close: the count behind
 * {@link ListenerRuntime#activeConnections()}, and {@link #closeGracefully(Duration)}, which
 * refuses new connections, tells each open client connection that the listener is closing
 * ({@link #GRACEFUL_CLOSE}), completes when the last one has closed and, at the timeout, closes
 * what is left.
 *
 * <p>A client connection is {@linkplain #admit admitted} once accepted. A TCP session's
 * connection to its server ({@link #addServerConnection}) lives and dies with its client
 * connection: it is not counted, but the close waits for it and closes it at the timeout, so a
 * session's last bytes still reach the server. An HTTP listener's server connections are pooled
 * apart from any one client and are not tracked here.
 *
 * <p>Nothing polls: each tracked channel's close checks whether it was the last one of a close
 * under way, and one timer per close fires at the timeout.
 *
 * <p>Thread-safe: admission runs on the connections' event loops, the close on any thread.
 */
public final class ListenerConnections {

    /**
     * The user event each open client connection gets when its listener starts closing gracefully.
     * An HTTP connection closes at once when idle, otherwise after its current response; a TCP
     * session has no request boundary to stop at, so the event passes through its pipeline and the
     * session ends on its own or at the timeout.
     */
    public static final Object GRACEFUL_CLOSE = new Object() {
        @Override
        public String toString() {
            return "graceful close";
        }
    };

    private final ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ChannelGroup servers = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final CompletableFuture<Void> allClosed = new CompletableFuture<>();
    private volatile boolean closing;

    /**
     * Tracks a newly accepted client connection, or refuses it once a graceful close has begun
     * (the caller then closes it). The channel joins before {@code closing} is read, and the close
     * sets {@code closing} before it looks at who is open: so either the close sees this
     * connection, or this connection sees the close.
     */
    public boolean admit(Channel client) {
        track(clients, client);
        return !closing;
    }

    /** Tracks a TCP session's connection to its server: waited for and closed with the client's. */
    public void addServerConnection(Channel server) {
        track(servers, server);
    }

    private void track(ChannelGroup group, Channel ch) {
        group.add(ch); // the group's own close listener, which removes it, runs before the one below
        ch.closeFuture().addListener(f -> completeIfAllClosed());
    }

    /** The open client connections themselves (a snapshot's view: for diagnostics and tests). */
    public Iterable<Channel> clients() {
        return java.util.List.copyOf(clients);
    }

    /** Open client connections, admitted or being refused. */
    public int open() {
        return clients.size();
    }

    /** True from the start of a graceful close: connections still open finish their current work. */
    public boolean isClosing() {
        return closing;
    }

    /**
     * Starts a graceful close (the listener has stopped accepting): signals each open client
     * connection, and at {@code timeout} closes every tracked connection still open. Completes
     * when none is left. Calling it again signals again and completes with the first.
     */
    public CompletableFuture<Void> closeGracefully(Duration timeout) {
        closing = true;
        for (Channel client : clients) {
            client.pipeline().fireUserEventTriggered(GRACEFUL_CLOSE);
        }
        ScheduledFuture<?> deadline = GlobalEventExecutor.INSTANCE.schedule(() -> {
            clients.close();
            servers.close();
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        allClosed.whenComplete((done, never) -> deadline.cancel(false));
        completeIfAllClosed(); // nothing open, or the last closed before this close began
        return allClosed;
    }

    private void completeIfAllClosed() {
        if (closing && clients.isEmpty() && servers.isEmpty()) {
            allClosed.complete(null);
        }
    }
}
