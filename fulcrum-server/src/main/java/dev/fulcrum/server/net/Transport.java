package dev.fulcrum.server.net;

import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The Netty transport in use and its worker event loops, one instance per process. The kind is
 * the JVM property {@code fulcrum.transport} ({@code epoll}, {@code io_uring} or {@code nio};
 * {@code -Dfulcrum.nio=true} still means {@code nio}); without it, {@link #DEFAULT}. A native kind
 * that does not load here falls back to the next one ({@code io_uring} -> {@code epoll} ->
 * {@code nio}) with a warning naming the cause.
 *
 * <p>Accepting: with a native kind each worker loop accepts on a listening socket of its own
 * ({@code SO_REUSEPORT}, see {@link ListenerSockets}), so a connection is served by the loop that
 * accepted it; with NIO, which has no {@code SO_REUSEPORT}, one shared accept thread
 * ({@code fulcrum-accept}) accepts and hands each connection to a worker. Client and backend
 * channels of one proxied connection share a loop (backend bootstraps use
 * {@code clientChannel.eventLoop()}), so no cross-thread hand-off happens on the request path.
 *
 * <p>Thread-safe; {@link #close()} shuts the loops down.
 */
public final class Transport implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /** The kinds, in fallback order: each falls back to the next that loads. */
    public enum Kind {
        IO_URING("io_uring"), EPOLL("epoll"), NIO("nio");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** As the property and the logs spell it. */
        public String label() {
            return label;
        }

        /** Whether this kind loads here; NIO always does. */
        public boolean isAvailable() {
            return switch (this) {
                case IO_URING -> IoUring.isAvailable();
                case EPOLL -> Epoll.isAvailable();
                case NIO -> true;
            };
        }

        Throwable unavailabilityCause() {
            return switch (this) {
                case IO_URING -> IoUring.unavailabilityCause();
                case EPOLL -> Epoll.unavailabilityCause();
                case NIO -> null;
            };
        }

        static Kind of(String label) {
            for (Kind k : values()) {
                if (k.label.equals(label.strip().toLowerCase(Locale.ROOT).replace('-', '_'))) {
                    return k;
                }
            }
            throw new IllegalArgumentException("fulcrum.transport: unknown transport '" + label
                    + "' (known: io_uring, epoll, nio)");
        }
    }

    /**
     * The kind used when {@code fulcrum.transport} is not set (falling back as above): io_uring,
     * which cost less CPU than epoll per keep-alive request measured alone (14.4-15.3 µs against
     * 15.5-17.9, three interleaved runs, 2026-12-07) and about the same per new connection; epoll
     * copied 1 MiB bodies ~9% cheaper in one run, ~9% dearer in the run before.
     */
    public static final Kind DEFAULT = Kind.IO_URING;

    private final Kind kind;
    /** Null with a native kind: every worker accepts for itself. */
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final List<EventLoop> workerLoops;
    private final AddressResolverGroup<InetSocketAddress> resolver;

    private Transport(Kind kind, int workerThreads) {
        this.kind = kind;
        IoHandlerFactory factory = switch (kind) {
            case IO_URING -> IoUringIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        this.workers = new MultiThreadIoEventLoopGroup(workerThreads, new DefaultThreadFactory("fulcrum-io", true),
                factory);
        this.acceptors = kind == Kind.NIO
                ? new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("fulcrum-accept", true), factory)
                : null;
        List<EventLoop> loops = new ArrayList<>();
        for (EventExecutor e : workers) {
            loops.add((EventLoop) e);
        }
        this.workerLoops = List.copyOf(loops);
        this.resolver = dnsResolver(datagramChannelClass(kind));
    }

    /**
     * A non-blocking resolver for server host names (/etc/hosts, then the system's DNS servers),
     * for bootstraps whose channels run on loops that carry {@code datagramChannelClass}. Netty's
     * default resolver calls {@code InetAddress.getByName} on the event loop, which would stall
     * every connection of that loop while a name server is slow. IP addresses resolve at once.
     */
    public static AddressResolverGroup<InetSocketAddress> dnsResolver(
            Class<? extends DatagramChannel> datagramChannelClass) {
        return new DnsAddressResolverGroup(new DnsNameResolverBuilder().datagramChannelType(datagramChannelClass));
    }

    /** The resolver for bootstraps on {@link #workers()}. */
    public AddressResolverGroup<InetSocketAddress> resolver() {
        return resolver;
    }

    /** The kind {@code fulcrum.transport} asks for, else {@link #DEFAULT}; one worker per core. */
    public static Transport create() {
        return create(Runtime.getRuntime().availableProcessors());
    }

    public static Transport create(int workerThreads) {
        Kind asked = asked();
        return create(asked == null ? DEFAULT : asked, asked != null, workerThreads);
    }

    /** {@code wanted}, or the first kind after it that loads here (with a warning). */
    public static Transport create(Kind wanted, int workerThreads) {
        return create(wanted, true, workerThreads);
    }

    private static Transport create(Kind wanted, boolean asked, int workerThreads) {
        Kind kind = wanted;
        while (!kind.isAvailable()) {
            Kind next = Kind.values()[kind.ordinal() + 1];
            Throwable cause = kind.unavailabilityCause();
            String reason = cause == null ? "unknown cause" : cause.toString();
            if (asked) {
                log.warn("transport {} is not available here ({}); using {}", kind.label(), reason, next.label());
            } else { // the default on a kernel or sandbox without it: nothing to act on
                log.info("transport {} is not available here ({}); using {}", kind.label(), reason, next.label());
            }
            kind = next;
        }
        return new Transport(kind, Math.max(1, workerThreads));
    }

    /**
     * Loads the kind {@link #create()} will ask for (its native library, Netty's platform probes) on
     * a daemon thread, so that this runs on the second CPU while the caller reads its config
     * (start-up, issue 13: ~70-100 ms, none of which the AOT cache holds: a native library, a
     * temporary file, io_uring probes). {@link #create()} then finds it loaded, or waits for the
     * class initialisation under way; what loading reports, it reports as without this.
     */
    public static void loadAhead() {
        Thread.ofPlatform().daemon().name("fulcrum-transport-load").start(() -> {
            try {
                Kind asked = asked(false);
                (asked == null ? DEFAULT : asked).isAvailable();
            } catch (RuntimeException | LinkageError e) {
                // create() meets the same on the caller's thread and reports it there
            }
        });
    }

    /** The kind the JVM properties ask for; null when they ask for none (or for an unknown one). */
    private static Kind asked() {
        return asked(true);
    }

    private static Kind asked(boolean warn) {
        String property = System.getProperty("fulcrum.transport");
        if (property != null && !property.isBlank()) {
            try {
                return Kind.of(property);
            } catch (IllegalArgumentException e) {
                if (warn) {
                    log.warn("{}; using the default", e.getMessage());
                }
                return null;
            }
        }
        return Boolean.getBoolean("fulcrum.nio") ? Kind.NIO : null;
    }

    public Kind kind() {
        return kind;
    }

    /** "io_uring", "epoll" or "nio", for the start-up log line. */
    public String name() {
        return kind.label();
    }

    /**
     * Whether every worker loop accepts on a listening socket of its own ({@code SO_REUSEPORT}):
     * true for the native kinds.
     */
    public boolean acceptsOnEveryLoop() {
        return kind != Kind.NIO;
    }

    /** The option that lets several listening sockets share a port; null with NIO. */
    ChannelOption<Boolean> reusePortOption() {
        return switch (kind) {
            case IO_URING -> IoUringChannelOption.SO_REUSEPORT;
            case EPOLL -> EpollChannelOption.SO_REUSEPORT;
            case NIO -> null;
        };
    }

    /**
     * The group that accepts for a server bootstrap that binds one socket (the demo server,
     * tests): the shared accept thread with NIO, the workers themselves otherwise. Listeners use
     * {@link ListenerSockets}.
     */
    public EventLoopGroup acceptors() {
        return acceptors != null ? acceptors : workers;
    }

    public EventLoopGroup workers() {
        return workers;
    }

    /** The worker loops, in a fixed order. */
    public List<EventLoop> workerLoops() {
        return workerLoops;
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return switch (kind) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends SocketChannel> socketChannelClass() {
        return switch (kind) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }

    private static Class<? extends DatagramChannel> datagramChannelClass(Kind kind) {
        return switch (kind) {
            case IO_URING -> IoUringDatagramChannel.class;
            case EPOLL -> EpollDatagramChannel.class;
            case NIO -> NioDatagramChannel.class;
        };
    }

    @Override
    public void close() {
        resolver.close();
        if (acceptors != null) {
            acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
