package dev.fulcrum.server.demo;

import dev.fulcrum.server.net.BindFailure;
import dev.fulcrum.server.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.stream.ChunkedWriteHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A demo backend server, used by {@code fulcrum demo}, by tests and by benchmarks
 * ({@code fulcrum demo-server --port N [--name NAME] [--cpus N]}). HTTP/1.1 with keep-alive:
 *
 * <ul>
 *   <li>any path: {@code server NAME};
 *   <li>{@code GET /health}: 200 {@code ok}, or 503 after {@code POST /admin/fail} until
 *       {@code POST /admin/recover};
 *   <li>{@code GET /metrics}: Prometheus text with {@code process_cpu_usage} (see
 *       {@link BusyWindow}) and {@code demo_requests_total};
 *   <li>{@code GET /work?ms=N}: burns N ms (0..10000) of CPU on one of the {@code --cpus} workers;
 *       requests queue while all are busy, and get 503 when the queue is full;
 *   <li>{@code GET /bytes?n=N}: exactly N bytes, streamed with backpressure;
 *   <li>{@code POST} to any other path: reads the body and answers
 *       {@code received N bytes sha256 HEX}.
 * </ul>
 *
 * <p>It has its own small transport (one acceptor, one I/O thread), separate from any proxy in
 * the same JVM. Thread-safe; {@link #close()} stops it.
 */
public final class DemoServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DemoServer.class);

    /** @param port 0 picks a free port; {@code queueCapacity} bounds the waiting /work requests */
    public record Options(String host, int port, String name, int cpus, int queueCapacity) {
        public static final int DEFAULT_QUEUE = 10_000;

        public Options {
            if (cpus < 1) {
                throw new IllegalArgumentException("--cpus must be at least 1");
            }
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("the work queue must hold at least 1 request");
            }
        }
    }

    private final String name;
    private final int cpus;
    private final Transport transport;
    private final CpuWorkers workers;
    private final DemoMetrics metrics = new DemoMetrics();
    private final AtomicBoolean healthy = new AtomicBoolean(true);
    private Channel channel;

    private DemoServer(Options options) {
        this.name = options.name() != null ? options.name() : Integer.toString(options.port());
        this.cpus = options.cpus();
        this.transport = Transport.create(1);
        this.workers = new CpuWorkers(options.cpus(), options.queueCapacity());
    }

    /**
     * Binds and starts serving; logs {@code demo server NAME listening on HOST:PORT}.
     *
     * @throws IllegalStateException with a one-line message when the address cannot be bound
     */
    public static DemoServer start(Options options) {
        DemoServer server = new DemoServer(options);
        try {
            server.bind(options.host(), options.port());
        } catch (Exception e) { // epoll's bind error is a checked exception, thrown sneakily
            server.close();
            throw new IllegalStateException("demo server: cannot listen on " + options.host() + ":" + options.port()
                    + ": " + BindFailure.describe(e), e);
        }
        log.info("demo server {} listening on {}:{}", server.name, options.host(), server.port());
        return server;
    }

    private void bind(String host, int port) {
        channel = new ServerBootstrap()
                .group(transport.acceptors(), transport.workers())
                .channel(transport.serverChannelClass())
                // a restarted server takes its port back while old connections sit in TIME_WAIT
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpServerExpectContinueHandler(),
                                new FlowControlHandler(), new ChunkedWriteHandler(), new DemoHandler(DemoServer.this));
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
    }

    public String name() {
        return name;
    }

    /** The bound port (the real one when started with port 0). */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Blocks until {@link #close()} is called. */
    public void awaitClosed() {
        channel.closeFuture().syncUninterruptibly();
    }

    boolean healthy() {
        return healthy.get();
    }

    void setHealthy(boolean value) {
        if (healthy.getAndSet(value) != value) {
            log.info("demo server {} is now {}", name, value ? "healthy" : "failing (GET /health answers 503)");
        }
    }

    CpuWorkers workers() {
        return workers;
    }

    DemoMetrics metrics() {
        return metrics;
    }

    String renderMetrics() {
        return metrics.render(workers, cpus, healthy.get());
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        workers.close();
        transport.close();
    }
}
