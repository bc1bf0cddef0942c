package dev.fulcrum.server.cli;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.Admin;
import dev.fulcrum.server.config.FulcrumConfig.Alert;
import dev.fulcrum.server.config.FulcrumConfig.AlertType;
import dev.fulcrum.server.config.FulcrumConfig.Autoscale;
import dev.fulcrum.server.config.FulcrumConfig.Metric;
import dev.fulcrum.server.config.FulcrumConfig.Provisioner;
import dev.fulcrum.server.config.FulcrumConfig.ProvisionerType;
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
 * 127.0.0.1:9101..9103 by default, logs in {@code demo-logs/}), a load balancer with listener
 * {@code web} on {@code --port} in front of pool {@code app} (round-robin, health checks every
 * second, alerts logged on the console), auto-scaling of {@code app} between 2 and 6 servers (more
 * demo servers on 9111..9199, logs in {@code autoscale-logs/}; scale-in only stops servers the
 * auto-scaler started) and the dashboard, admin API and metrics on {@code --admin-port}; prints the
 * URLs and the commands to try: how to fail a demo server and watch the failover on the console,
 * and a bounded load that makes the pool scale out. Ctrl-C (or SIGTERM) stops everything it
 * started and exits 0. With {@code --cluster}, {@link DemoCluster} runs instead: 3 etcd members and
 * 3 cluster nodes in front of the same demo servers.
 */
@Command(name = "demo", description = {"Starts 3 demo servers, a load balancer in front of them and auto-scaling up to 6;"
        + " Ctrl-C stops all.",
        "With --cluster: 3 etcd members (etcd from the PATH, Debian etcd-server) and 3 cluster nodes lb-1..lb-3"
                + " (listeners on --port and the next two, admin APIs on --admin-port and the next two) in front of"
                + " the demo servers; no auto-scaling.",
        "Exit codes: 0 after Ctrl-C or SIGTERM; 1 a port in use, a part that did not start, or (--cluster) no etcd"
                + " binary."})
final class DemoCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    static final int DEMO_SERVERS = 3;
    /** Where the auto-scaler's demo servers listen. */
    static final int AUTOSCALE_PORT_LOW = 9111;
    static final int AUTOSCALE_PORT_HIGH = 9199;
    private static final Path LOG_DIR = Path.of("demo-logs");
    private static final Duration DRAIN = Duration.ofSeconds(5);

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080",
            description = "port of the load balancer's listener; with --cluster, node lb-1's (lb-2, lb-3: the next ports)"
                    + " (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--server-port", paramLabel = "N", defaultValue = "9101",
            description = "port of the first demo server; the others take the next ports (default: ${DEFAULT-VALUE})")
    int serverPort;

    @Option(names = "--admin-port", paramLabel = "N", defaultValue = "9901",
            description = "port of the dashboard, admin API and metrics; with --cluster, node lb-1's (lb-2, lb-3: the next"
                    + " ports) (default: ${DEFAULT-VALUE})")
    int adminPort;

    @Option(names = "--cluster",
            description = "3 etcd members and 3 cluster nodes on this machine instead of one load balancer")
    boolean cluster;

    @Override
    public Integer call() {
        List<Integer> serverPorts = java.util.stream.IntStream.range(serverPort, serverPort + DEMO_SERVERS)
                .boxed().toList();
        if (cluster) {
            return DemoCluster.run(port, adminPort, serverPorts, LOG_DIR);
        }
        DemoBackends backends = DemoBackends.start(serverPorts, LOG_DIR);
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
            backends.stopping();
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
                List.of(app), List.of(new Alert(AlertType.LOG, null, Duration.ofSeconds(5))), List.of(autoscale()),
                null, null);
    }

    /**
     * 2..6 servers on {@code process_cpu_usage}, scraped every second, averaged over 10 s, 10 s
     * cooldown; new servers are demo servers run by this same java and class path, as
     * {@link DemoBackends} runs the first ones.
     */
    static Autoscale autoscale() {
        List<String> command = DemoChildren.fulcrum(DemoBackends.JVM, "demo-server", "--port", "{port}");
        return new Autoscale("app", new Metric("/metrics", "process_cpu_usage", 1, Duration.ofSeconds(1)),
                0.80, 0.30, Duration.ofSeconds(10), Duration.ofSeconds(10), 2, 6,
                new Provisioner(ProvisionerType.PROCESS, command, AUTOSCALE_PORT_LOW, AUTOSCALE_PORT_HIGH,
                        List.of(), List.of()));
    }

    static String welcome(int port, int adminPort, List<HostPort> servers) {
        String lb = "127.0.0.1:" + port;
        String second = servers.get(1).toString();
        String urls = servers.stream().map(a -> "http://" + a + "/").collect(Collectors.joining("  "));
        return """

                Fulcrum demo is running. Ctrl-C stops everything it started.

                  load balancer  http://%1$s/   (listener web -> pool app, round-robin)
                  dashboard      http://127.0.0.1:%2$d/   (open it in a browser; auto-scaling panel)
                  admin API      http://127.0.0.1:%2$d/api/v1/pools
                  metrics        http://127.0.0.1:%2$d/metrics
                  demo servers   %3$s
                  server logs    %4$s/   (servers added by auto-scaling: autoscale-logs/)
                  auto-scaling   2..6 servers; out above 0.80 CPU, in below 0.30 (10 s window)

                Try:
                  for i in 1 2 3 4 5 6; do curl -s %1$s/; done      # answers rotate over the servers
                  curl -X POST %5$s/admin/fail                      # %5$s fails its health check: within
                                                                    #   3 s, server-down and ALERT FIRING here
                  curl -X POST %5$s/admin/recover                   # passes again: server-up, ALERT RESOLVED
                  for i in $(seq 1200); do curl -s -o /dev/null '%1$s/work?ms=150' & sleep 0.05; done; wait   # 60 s of CPU load: watch the pool scale out, then back in
                  curl -s %6$s/metrics | grep process_cpu_usage
                  curl -X POST 127.0.0.1:%2$d/api/v1/pools/app/servers/%5$s/drain   # out of rotation; /enable brings it back

                Routes: listener web has one, web#1 -> pool app. Several services on one address,
                e.g. api.example.com/v1/... to one pool and the rest split 90/10 with a canary:
                  routes:
                    - {match: {host: api.example.com, path-prefix: /v1}, pool: api, strip-prefix: true}
                    - {pools: [{pool: web, weight: 90}, {pool: web-canary, weight: 10}]}
                  (examples/routes.yaml runs that over these demo servers; docs/configuration.md)
                """.formatted(lb, adminPort, urls, LOG_DIR, second, servers.getFirst());
    }

    static void awaitUninterruptibly(CountDownLatch latch) {
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
