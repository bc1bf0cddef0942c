package dev.fulcrum.server.net;

import dev.fulcrum.core.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.UnresolvedAddressException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The listening sockets of one listener. With a native transport
 * ({@link Transport#acceptsOnEveryLoop()}), one socket per worker event loop, all bound to the same
 * address with {@code SO_REUSEPORT}, as HAProxy and nginx ({@code reuseport}) do: the kernel
 * spreads incoming connections over the sockets, and each socket's loop accepts its own and serves
 * them (the bootstrap's parent and child group are that one loop), so no thread hands connections
 * to another. With NIO, one socket on the shared accept thread, which hands each connection to a
 * worker.
 *
 * <p>A port in use fails the bind, as it did with one socket, even though {@code SO_REUSEPORT} lets
 * sockets of the same user share a port: before binding a fixed port, a probe socket binds it
 * <em>without</em> {@code SO_REUSEPORT} and is closed at once. The kernel refuses that bind while
 * any listening socket holds the address — another program's, or a second Fulcrum's reuse-port
 * group — so the port is reported in use. (The kernel lets only sockets of the same user share a
 * port; the probe is for those.) What it cannot see is a second instance binding in the
 * microseconds between the probe's close and the first real bind (two instances started at the
 * same instant); a second instance or another server started on a taken port fails as before.
 * Port 0 (tests)
 * needs no probe: the kernel picks a port no socket holds; the other sockets then bind the port
 * the first one got.
 *
 * <p>{@code max-connections} is one {@link ConnectionLimit} over all the sockets. Thread-safe;
 * the socket list is fixed once bound.
 */
public final class ListenerSockets {

    private final List<Channel> channels;

    private ListenerSockets(List<Channel> channels) {
        this.channels = List.copyOf(channels);
    }

    /**
     * Binds the listener's address on every worker loop (or once, with NIO).
     *
     * @param template the listener's bootstrap without group, channel or handler: its options,
     *                 child options and child handler, the same for every socket
     * @return completes when all are bound; else exceptionally, nothing left bound, with an
     *         {@link IllegalStateException} of one line for the operator:
     *         {@code listener web: cannot listen on 127.0.0.1:8080: address already in use}
     */
    public static CompletableFuture<ListenerSockets> bind(Transport transport, ServerBootstrap template,
                                                          ConnectionLimit limit, String listener, HostPort listen) {
        CompletableFuture<ListenerSockets> bound = new CompletableFuture<>();
        bind(transport, template, limit, listen.host(), listen.port()).whenComplete((sockets, failure) -> {
            if (failure == null) {
                bound.complete(sockets);
            } else {
                bound.completeExceptionally(new IllegalStateException("listener " + listener + ": cannot listen on "
                        + listen + ": " + BindFailure.describe(failure)));
            }
        });
        return bound;
    }

    /** As above; fails with the bind's own cause. */
    static CompletableFuture<ListenerSockets> bind(Transport transport, ServerBootstrap template,
                                                   ConnectionLimit limit, String host, int port) {
        CompletableFuture<ListenerSockets> bound = new CompletableFuture<>();
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(host, port);
            if (address.isUnresolved()) {
                throw new UnresolvedAddressException();
            }
            if (transport.acceptsOnEveryLoop() && port != 0) {
                probe(address);
            }
        } catch (IOException | RuntimeException e) {
            bound.completeExceptionally(e);
            return bound;
        }
        List<ServerBootstrap> bootstraps = new ArrayList<>();
        if (transport.acceptsOnEveryLoop()) {
            for (EventLoop loop : transport.workerLoops()) {
                bootstraps.add(configure(template, transport, limit).group(loop, loop)
                        .option(transport.reusePortOption(), true));
            }
        } else {
            bootstraps.add(configure(template, transport, limit).group(transport.acceptors(), transport.workers()));
        }
        List<Channel> channels = new ArrayList<>();
        bootstraps.getFirst().bind(address).addListener((ChannelFuture first) -> {
            if (!first.isSuccess()) {
                bound.completeExceptionally(first.cause());
                return;
            }
            channels.add(first.channel());
            // port 0: the others take the port the first one got
            InetSocketAddress actual = new InetSocketAddress(address.getAddress(),
                    ((InetSocketAddress) first.channel().localAddress()).getPort());
            bindRest(bootstraps, 1, actual, channels, bound);
        });
        return bound;
    }

    /** Connections the kernel queues per listening socket before they are accepted (HTTP and TCP alike). */
    static final int BACKLOG = 1024;

    private static ServerBootstrap configure(ServerBootstrap template, Transport transport, ConnectionLimit limit) {
        return template.clone()
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, BACKLOG)
                .handler(limit.newHandler());
    }

    /** One after another, so that a failure leaves a known list to close. */
    private static void bindRest(List<ServerBootstrap> bootstraps, int next, InetSocketAddress address,
                                 List<Channel> channels, CompletableFuture<ListenerSockets> bound) {
        if (next == bootstraps.size()) {
            bound.complete(new ListenerSockets(channels));
            return;
        }
        bootstraps.get(next).bind(address).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                channels.forEach(Channel::close);
                bound.completeExceptionally(f.cause());
                return;
            }
            channels.add(f.channel());
            bindRest(bootstraps, next + 1, address, channels, bound);
        });
    }

    /**
     * Binds {@code address} without {@code SO_REUSEPORT} (with {@code SO_REUSEADDR}, as the real
     * sockets, so a port with only TIME_WAIT connections is free) and lets it go; not listening,
     * so no connection can land on it.
     *
     * @throws java.net.BindException when a listening socket holds the address
     */
    private static void probe(InetSocketAddress address) throws IOException {
        try (Socket probe = new Socket()) {
            probe.setReuseAddress(true);
            probe.bind(address);
        }
    }

    /** The bound address (the real port when the config asked for port 0). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channels.getFirst().localAddress();
    }

    /** How many sockets: the worker loops with a native transport, else 1. */
    public int size() {
        return channels.size();
    }

    /** True while every socket is open and bound. */
    public boolean isAccepting() {
        for (Channel ch : channels) {
            if (!ch.isActive()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Closes every socket: no new connection is accepted on any (those still in a socket's backlog
     * are reset by the kernel); open connections go on. Returns once closed, so the port is free,
     * except for sockets whose own loop calls this (they close as soon as the caller returns).
     */
    public void close() {
        List<ChannelFuture> closing = new ArrayList<>(channels.size());
        for (Channel ch : channels) {
            closing.add(ch.close());
        }
        for (int i = 0; i < channels.size(); i++) {
            if (!channels.get(i).eventLoop().inEventLoop()) {
                closing.get(i).syncUninterruptibly();
            }
        }
    }
}
