package dev.fulcrum.server.health;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one active check and hands its outcome back to the control thread. The
 * {@link HealthChecker} decides when to check and what a result means; a prober only does the
 * I/O. {@link #netty} is the real one (a {@link Probe} on an event loop of its own); tests give
 * the checker a scripted one and drive it in simulated time.
 */
interface Prober extends AutoCloseable {

    /** Starts one check of {@code target}; {@code done} runs exactly once, on the control thread. */
    void probe(HostPort target, HealthCheck check, Consumer<Probe.Result> done);

    /**
     * As {@link #probe(HostPort, HealthCheck, Consumer)}, speaking the pool's {@code protocol} (an
     * {@code http} check of an h2c pool goes as HTTP/2 by prior knowledge: servers that speak only
     * h2c, gRPC's, do not answer HTTP/1.1; of an h2 pool, as HTTP/2 agreed by ALPN), over TLS made
     * with the pool's {@code tls} when not null (verified like the data path's connections). Scripted probers need not tell the difference.
     */
    default void probe(HostPort target, HealthCheck check, UpstreamProtocol protocol, PoolTls tls,
                       Consumer<Probe.Result> done) {
        probe(target, check, done);
    }

    @Override
    void close();

    /**
     * Probes on one event loop of their own ({@code fulcrum-health}), never on the data plane's
     * loops, so a slow server or a flood of checks cannot delay requests; each outcome is sent to
     * the control thread as a command.
     */
    static Prober netty(ControlPlane control) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("fulcrum-health", true),
                NioIoHandler.newFactory());
        EventLoop loop = group.next();
        return new Prober() {
            @Override
            public void probe(HostPort target, HealthCheck check, Consumer<Probe.Result> done) {
                probe(target, check, UpstreamProtocol.HTTP_1_1, null, done);
            }

            @Override
            public void probe(HostPort target, HealthCheck check, UpstreamProtocol protocol, PoolTls tls,
                              Consumer<Probe.Result> done) {
                try {
                    loop.execute(() -> Probe.run(loop, NioSocketChannel.class, target, check,
                            protocol.multiplexed(), tls,
                            outcome -> control.execute(() -> done.accept(outcome))));
                } catch (RejectedExecutionException closing) {
                    // shutting down: no more checks
                }
            }

            @Override
            public void close() {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        };
    }
}
