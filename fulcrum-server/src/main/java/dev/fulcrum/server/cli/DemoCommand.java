package dev.fulcrum.server.cli;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.Admin;
import dev.fulcrum.server.config.FulcrumConfig.Alert;
import dev.fulcrum.server.config.FulcrumConfig.AlertType;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * {@code fulcrum demo}: the whole system on one machine. Starts 3 demo servers (child processes on
 * 127.0.0.1:9101..9103, logs in {@code demo-logs/}), a load balancer with listener {@code web}
 * on {@code --port} in front of pool {@code app} (round-robin, health checks every second, alerts
 * logged on the console) and the dashboard, admin API and metrics on {@code --admin-port}; prints
 * the URLs and the commands to try, among them how to fail a demo server and watch the failover on
 * the console. Ctrl-C (or SIGTERM)
 * stops everything it started and exits 0.
 */
@Command(name = "demo", description = "Starts 3 demo servers and a load balancer in front of them; Ctrl-C stops all.")
final class DemoCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    static final List<Integer> SERVER_PORTS = List.of(9101, 9102, 9103);
    private static final Path LOG_DIR = Path.of("demo-logs");
    private static final Duration DRAIN = Duration.ofSeconds(5);

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080",
            description = "port of the load balancer's listener (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--admin-port", paramLabel = "N", defaultValue = "9901",
            description = "port of the dashboard, admin API and metrics (default: ${DEFAULT-VALUE})")
    int adminPort;

    @Override
    public Integer call() {
        DemoBackends backends = DemoBackends.start(SERVER_PORTS, LOG_DIR);
        // Safety net for exits that bypass the signal path (an error below, System.exit elsewhere).
        Runtime.getRuntime().addShutdownHook(new Thread(backends::close, "demo-backends-stop"));
        FulcrumServer server;
        try {
            server = FulcrumServer.start(config(port, adminPort, backends.addresses()));
        } catch (RuntimeException e) {
            backends.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        StopSignals.onStop(() -> {
            System.out.println("stopping the demo (Ctrl-C again to exit now)");
            try {
                server.stop(DRAIN);
            } finally {
                backends.close();
                stopped.countDown();
            }
        });
        System.out.println(welcome(port, adminPort, backends.addresses()));
        awaitUninterruptibly(stopped);
        return 0;
    }

    /** The demo's config, as if read from a file. */
    static FulcrumConfig config(int port, int adminPort, List<HostPort> servers) {
        Listener web = new Listener("web", new HostPort("127.0.0.1", port), Protocol.HTTP, "app", null,
                10_000, Duration.ofSeconds(60), Duration.ofSeconds(10), 65_536);
        HealthCheck check = new HealthCheck(CheckType.HTTP, "/health", "", 200, 399,
                Duration.ofSeconds(1), Duration.ofMillis(500), 2, 2, 0.10);
        PoolConfig app = new PoolConfig("app", Algorithm.ROUND_ROBIN, null, "",
                servers.stream().map(a -> new ServerEntry(a, 1)).toList(),
                Duration.ofSeconds(2), Duration.ofSeconds(30), 2, Duration.ZERO, DRAIN, 0, check,
                OutlierDetection.DEFAULT);
        return new FulcrumConfig("demo", new Admin(new HostPort("127.0.0.1", adminPort), ""), List.of(web),
                List.of(app), List.of(new Alert(AlertType.LOG, null, Duration.ofSeconds(5))), List.of(), null, null);
    }

    static String welcome(int port, int adminPort, List<HostPort> servers) {
        String lb = "127.0.0.1:" + port;
        String second = servers.get(1).toString();
        String urls = servers.stream().map(a -> "http://" + a + "/").collect(Collectors.joining("  "));
        return """

                Fulcrum demo is running. Ctrl-C stops everything it started.

                  load balancer  http://%1$s/   (listener web -> pool app, round-robin)
                  dashboard      http://127.0.0.1:%2$d/   (open it in a browser)
                  admin API      http://127.0.0.1:%2$d/api/v1/pools
                  metrics        http://127.0.0.1:%2$d/metrics
                  demo servers   %3$s
                  server logs    %4$s/

                Try:
                  for i in 1 2 3 4 5 6; do curl -s %1$s/; done      # answers rotate over the servers
                  curl -X POST %5$s/admin/fail                      # %5$s fails its health check: within
                                                                    #   3 s, server-down and ALERT FIRING here
                  curl -X POST %5$s/admin/recover                   # passes again: server-up, ALERT RESOLVED
                  for i in $(seq 100); do curl -s '%1$s/work?ms=20' >/dev/null & done; wait   # some CPU load
                  curl -s %6$s/metrics | grep process_cpu_usage
                  curl -X POST 127.0.0.1:%2$d/api/v1/pools/app/servers/%5$s/drain   # out of rotation; /enable brings it back
                """.formatted(lb, adminPort, urls, LOG_DIR, second, servers.getFirst());
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
