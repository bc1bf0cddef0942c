package dev.fulcrum.server.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;

/**
 * The Netty transport in use: native epoll when it loads (Linux), NIO otherwise. One instance per
 * process owns the worker event loops; client and backend channels of one proxied connection share
 * a loop (backend bootstraps use {@code clientChannel.eventLoop()}), so no cross-thread hand-off
 * happens on the request path.
 *
 * <p>Thread-safe; {@link #close()} shuts the loops down.
 */
public final class Transport implements AutoCloseable {

    private final boolean epoll;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final AddressResolverGroup<InetSocketAddress> resolver;

    private Transport(boolean epoll, int workerThreads) {
        this.epoll = epoll;
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.acceptors = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("fulcrum-accept", true), factory);
        this.workers = new MultiThreadIoEventLoopGroup(workerThreads, new DefaultThreadFactory("fulcrum-io", true),
                factory);
        this.resolver = dnsResolver(epoll);
    }

    /**
     * A non-blocking resolver for server host names (/etc/hosts, then the system's DNS servers),
     * for bootstraps whose channels run on loops of this kind ({@code epoll} or NIO). Netty's
     * default resolver calls {@code InetAddress.getByName} on the event loop, which would stall
     * every connection of that loop while a name server is slow. IP addresses resolve at once.
     */
    public static AddressResolverGroup<InetSocketAddress> dnsResolver(boolean epoll) {
        return new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class));
    }

    /** The resolver for bootstraps on {@link #workers()}. */
    public AddressResolverGroup<InetSocketAddress> resolver() {
        return resolver;
    }

    /** Native epoll when available, else NIO; one worker per core. */
    public static Transport create() {
        return create(Runtime.getRuntime().availableProcessors());
    }

    public static Transport create(int workerThreads) {
        boolean native_ = !Boolean.getBoolean("fulcrum.nio") && Epoll.isAvailable();
        return new Transport(native_, Math.max(1, workerThreads));
    }

    /** "epoll" or "nio", for the start-up log line. */
    public String name() {
        return epoll ? "epoll" : "nio";
    }

    public EventLoopGroup acceptors() {
        return acceptors;
    }

    public EventLoopGroup workers() {
        return workers;
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends SocketChannel> socketChannelClass() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    @Override
    public void close() {
        resolver.close();
        acceptors.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
