package dev.fulcrum.server.config;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig.Admin;
import dev.fulcrum.server.config.FulcrumConfig.Alert;
import dev.fulcrum.server.config.FulcrumConfig.AlertType;
import dev.fulcrum.server.config.FulcrumConfig.Autoscale;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.Dsr;
import dev.fulcrum.server.config.FulcrumConfig.Ha;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.Metric;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.Provisioner;
import dev.fulcrum.server.config.FulcrumConfig.ProvisionerType;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.config.FulcrumConfig.Tls;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Files that are right: every value read as written, every absent key at its config.md default. */
class ConfigLoaderTest {

    /** The example of spec config.md, with the TLS files pointing at {@code %s}. */
    private static final String SPEC_EXAMPLE = """
            name: edge-1                    # this instance's name, in alerts and metrics; default: host name

            admin:
              listen: 127.0.0.1:9901        # admin API, /metrics, dashboard
              token: ${FULCRUM_ADMIN_TOKEN:-}   # when set, every mutating call needs "Authorization: Bearer <token>"

            listeners:
              - name: web
                listen: 0.0.0.0:8080
                protocol: http              # http | tcp
                pool: app
                tls:                        # optional: terminate TLS here (http and tcp)
                  cert: %1$s/cert.pem
                  key: %1$s/key.pem
                max-connections: 100000
                idle-timeout: 60s           # client connection idle
                request-header-timeout: 10s # whole request head must arrive within this (slowloris)
                max-header-bytes: 65536     # larger head -> 431

            pools:
              - name: app
                algorithm: round-robin      # round-robin | least-connections | least-request | random | maglev | ring-hash
                hash-key: source-ip         # for maglev / ring-hash: source-ip | header:NAME | cookie:NAME | path
                sticky-cookie: ""           # when set (e.g. FULCRUM_STICKY): pin a client to a server by this cookie
                servers:
                  - address: 127.0.0.1:9101
                    weight: 1               # 1..256; 0 = no new traffic
                  - address: 127.0.0.1:9102
                connect-timeout: 2s
                response-timeout: 30s       # until the response head starts
                retries: 2                  # extra tries on another server (never the same one)
                slow-start: 0s              # ramp a newly-up server's weight from ~0 to full over this
                drain-timeout: 30s          # how long a removed server keeps its in-flight requests
                max-connections-per-server: 0   # 0 = unlimited
                health-check:
                  type: http                # http | tcp | none
                  path: /health
                  host: ""                  # Host header for the check; default: the server address
                  expect-status: 200-399    # a code or a range
                  interval: 2s
                  timeout: 1s
                  rise: 2                   # consecutive passes to go up
                  fall: 3                   # consecutive failures to go down
                  jitter: 10%%               # spread checks so they do not fire together
                outlier-detection:          # passive checks, from real traffic
                  consecutive-gateway-failures: 3   # connect refused/reset/timeout in a row -> eject
                  consecutive-5xx: 5
                  base-ejection: 30s        # doubles for each repeat ejection, up to 10x
                  max-ejection-percent: 50  # never eject more than this share of the pool

            alerts:                         # where server down/up, scale and failover events go
              - type: log
              - type: webhook
                url: http://127.0.0.1:9093/api/v2/alerts   # Alertmanager-compatible receiver
                timeout: 5s

            autoscale:
              - pool: app
                metric:
                  path: /metrics            # scraped from each server of the pool (Prometheus text)
                  name: process_cpu_usage   # a gauge; with scale 1 its range is 0..1
                  scale: 1                  # divide by this first (100 for a 0..100 gauge)
                  interval: 5s
                scale-out-above: 0.80       # average over the pool and the window
                scale-in-below: 0.30
                window: 30s
                cooldown: 60s               # after a change, wait this long before the next one
                min-servers: 2
                max-servers: 10
                provisioner:
                  type: process             # process | exec
                  command: ["./fulcrum", "demo-server", "--port", "{port}"]  # process: start one server
                  ports: 9200-9299          # process: where new servers listen
                  # exec: scale-out: ["./scale-out.sh"]   prints the new server's host:port on stdout
                  #       scale-in:  ["./scale-in.sh", "{address}"]

            ha:                             # see ha-and-dsr.md; absent = no HA
              interface: eth0
              virtual-router-id: 51         # 1..255
              priority: 100                 # 1..254
              advert-interval: 1s           # 10ms..40.95s
              preempt: true
              virtual-ips: ["10.0.0.100/24"]
              unicast-peers: []             # empty = multicast 224.0.0.18
              notify: ""                    # program run with MASTER | BACKUP | FAULT

            dsr:                            # see ha-and-dsr.md; absent = no DSR
              interface: eth0
              virtual-ip: 10.0.0.100
              ports: [80]
              pool: app                     # its health checks apply; its servers must hold the VIP on loopback
            """;

    private static final String MINIMAL = """
            listeners:
              - name: web
                listen: 127.0.0.1:8080
                pool: app
            pools:
              - name: app
            """;

    @Test
    void theSpecExampleReadsAsWritten(@TempDir Path dir) throws Exception {
        TestCertificates.create(dir.resolve("cert.pem"), dir.resolve("key.pem"));

        FulcrumConfig config = ConfigLoader.parse(SPEC_EXAMPLE.formatted(dir), "fulcrum.yaml", Map.of());

        assertThat(config.name()).isEqualTo("edge-1");
        assertThat(config.admin()).isEqualTo(new Admin(new HostPort("127.0.0.1", 9901), ""));
        assertThat(config.listeners()).containsExactly(new Listener("web", new HostPort("0.0.0.0", 8080),
                Protocol.HTTP, "app", new Tls(dir.resolve("cert.pem"), dir.resolve("key.pem")), 100_000,
                Duration.ofSeconds(60), Duration.ofSeconds(10), 65_536));
        assertThat(config.pools()).containsExactly(new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP,
                "", List.of(new ServerEntry(new HostPort("127.0.0.1", 9101), 1),
                        new ServerEntry(new HostPort("127.0.0.1", 9102), 1)),
                Duration.ofSeconds(2), Duration.ofSeconds(30), 2, Duration.ZERO, Duration.ofSeconds(30), 0,
                new HealthCheck(CheckType.HTTP, "/health", "", 200, 399, Duration.ofSeconds(2),
                        Duration.ofSeconds(1), 2, 3, 0.10),
                new OutlierDetection(3, 5, Duration.ofSeconds(30), 50)));
        assertThat(config.alerts()).containsExactly(new Alert(AlertType.LOG, null, Duration.ofSeconds(5)),
                new Alert(AlertType.WEBHOOK, URI.create("http://127.0.0.1:9093/api/v2/alerts"), Duration.ofSeconds(5)));
        assertThat(config.autoscale()).containsExactly(new Autoscale("app",
                new Metric("/metrics", "process_cpu_usage", 1, Duration.ofSeconds(5)), 0.80, 0.30,
                Duration.ofSeconds(30), Duration.ofSeconds(60), 2, 10,
                new Provisioner(ProvisionerType.PROCESS, List.of("./fulcrum", "demo-server", "--port", "{port}"),
                        9200, 9299, List.of(), List.of())));
        assertThat(config.ha()).isEqualTo(new Ha("eth0", 51, 100, Duration.ofSeconds(1), true,
                List.of("10.0.0.100/24"), List.of(), ""));
        assertThat(config.dsr()).isEqualTo(new Dsr("eth0", "10.0.0.100", List.of(80), "app", false, Dsr.DEFAULT_TABLE_GRACE));
    }

    @Test
    void aMinimalFileGetsEveryDefault() throws IOException {
        FulcrumConfig config = ConfigLoader.parse(MINIMAL, "fulcrum.yaml", Map.of());

        assertThat(config.name()).isEqualTo(InetAddress.getLocalHost().getHostName());
        assertThat(config.admin()).isEqualTo(new Admin(new HostPort("127.0.0.1", 9901), ""));
        assertThat(config.listeners()).containsExactly(new Listener("web", new HostPort("127.0.0.1", 8080),
                Protocol.HTTP, "app", null, 100_000, Duration.ofSeconds(60), Duration.ofSeconds(10), 65_536));
        assertThat(config.pools()).containsExactly(new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP,
                "", List.of(), Duration.ofSeconds(2), Duration.ofSeconds(30), 2, Duration.ZERO,
                Duration.ofSeconds(30), 0, HealthCheck.DEFAULT, OutlierDetection.DEFAULT));
        assertThat(config.alerts()).isEmpty();
        assertThat(config.autoscale()).isEmpty();
        assertThat(config.ha()).isNull();
        assertThat(config.dsr()).isNull();
    }

    @Test
    void partialSectionsTakeTheDefaultsOfTheKeysLeftOut() {
        FulcrumConfig config = ConfigLoader.parse(MINIMAL + """
                    health-check:
                      type: tcp
                      interval: 5s
                    outlier-detection:
                      max-ejection-percent: 20%
                    servers:
                      - address: "[::1]:9101"
                        weight: 0
                  - name: video
                    servers: [{address: 10.0.0.21:80}]
                autoscale:
                  - pool: app
                    provisioner:
                      type: exec
                      scale-out: ["./out.sh"]
                      scale-in: ["./in.sh", "{address}"]
                ha:
                  interface: eth0
                  virtual-router-id: 7
                  virtual-ips: ["10.0.0.100/24", 10.0.0.101/32]
                  unicast-peers: [192.168.1.2]
                dsr:
                  interface: eth1
                  virtual-ip: 10.0.0.100
                  pool: video
                  table-grace: 5s
                """, "fulcrum.yaml", Map.of());

        PoolConfig pool = config.pool("app");
        assertThat(pool.healthCheck()).isEqualTo(new HealthCheck(CheckType.TCP, "/health", "", 200, 399,
                Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 3, 0.10));
        assertThat(pool.outlierDetection()).isEqualTo(new OutlierDetection(3, 5, Duration.ofSeconds(30), 20));
        assertThat(pool.servers()).containsExactly(new ServerEntry(new HostPort("::1", 9101), 0));
        assertThat(config.autoscale()).containsExactly(new Autoscale("app",
                new Metric("/metrics", "process_cpu_usage", 1, Duration.ofSeconds(5)), 0.80, 0.30,
                Duration.ofSeconds(30), Duration.ofSeconds(60), 2, 10,
                new Provisioner(ProvisionerType.EXEC, List.of(), 0, 0, List.of("./out.sh"),
                        List.of("./in.sh", "{address}"))));
        assertThat(config.ha()).isEqualTo(new Ha("eth0", 7, 100, Duration.ofSeconds(1), true,
                List.of("10.0.0.100/24", "10.0.0.101/32"), List.of("192.168.1.2"), ""));
        assertThat(config.dsr()).isEqualTo(new Dsr("eth1", "10.0.0.100", List.of(80), "video", false, Duration.ofSeconds(5)));
    }

    @Test
    void poolProtocolDefaultsToHttp11AndReadsH2c() {
        FulcrumConfig config = ConfigLoader.parse("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    routes:
                      - {match: {path-prefix: /grpc/}, pool: grpc}
                      - {match: {}, pool: web}
                pools:
                  - name: grpc
                    protocol: h2c
                  - name: web
                """, "fulcrum.yaml", Map.of());
        assertThat(config.pool("grpc").protocol()).isEqualTo(FulcrumConfig.UpstreamProtocol.H2C);
        assertThat(config.pool("web").protocol()).isEqualTo(FulcrumConfig.UpstreamProtocol.HTTP_1_1);
    }

    @Test
    void otherValueSpellingsAreRead() {
        FulcrumConfig config = ConfigLoader.parse("""
                listeners:
                  - name: db
                    listen: 127.0.0.1:5432
                    protocol: tcp
                    pool: pg
                    idle-timeout: 1h
                    request-header-timeout: 250ms
                pools:
                  - name: pg
                    algorithm: maglev
                    hash-key: header:X-User
                    sticky-cookie: FULCRUM_STICKY
                    slow-start: 1m
                    health-check:
                      type: none
                      expect-status: 204
                      jitter: 0%
                ha:
                  interface: eth0
                  virtual-router-id: 255
                  priority: 254
                  advert-interval: 40950ms
                  preempt: false
                  virtual-ips: [10.0.0.1/32]
                  notify: /usr/local/bin/notify.sh
                """, "fulcrum.yaml", Map.of());

        assertThat(config.listeners().getFirst().protocol()).isEqualTo(Protocol.TCP);
        assertThat(config.listeners().getFirst().idleTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(config.listeners().getFirst().requestHeaderTimeout()).isEqualTo(Duration.ofMillis(250));
        PoolConfig pool = config.pool("pg");
        assertThat(pool.algorithm()).isEqualTo(Algorithm.MAGLEV);
        assertThat(pool.hashKey()).isEqualTo(new HashKey(HashKey.Source.HEADER, "X-User"));
        assertThat(pool.stickyCookie()).isEqualTo("FULCRUM_STICKY");
        assertThat(pool.slowStart()).isEqualTo(Duration.ofMinutes(1));
        assertThat(pool.healthCheck().type()).isEqualTo(CheckType.NONE);
        assertThat(pool.healthCheck().expectStatusLow()).isEqualTo(204);
        assertThat(pool.healthCheck().expectStatusHigh()).isEqualTo(204);
        assertThat(pool.healthCheck().jitter()).isZero();
        assertThat(config.ha()).isEqualTo(new Ha("eth0", 255, 254, Duration.ofMillis(40_950), false,
                List.of("10.0.0.1/32"), List.of(), "/usr/local/bin/notify.sh"));
    }

    @Test
    void environmentVariablesAreSubstitutedInValues() {
        String yaml = """
                name: ${NODE}-${ZONE:-eu}
                admin:
                  token: ${FULCRUM_ADMIN_TOKEN:-}
                listeners:
                  - name: web
                    listen: ${BIND:-127.0.0.1}:${PORT}
                    pool: app
                    max-connections: ${MAX_CONN:-500}
                pools:
                  - name: app
                    servers:
                      - address: ${BACKEND}
                """;

        FulcrumConfig config = ConfigLoader.parse(yaml, "fulcrum.yaml",
                Map.of("NODE", "edge-7", "PORT", "8443", "BACKEND", "10.1.2.3:9000", "FULCRUM_ADMIN_TOKEN", "s3cret"));

        assertThat(config.name()).isEqualTo("edge-7-eu");
        assertThat(config.admin().token()).isEqualTo("s3cret");
        assertThat(config.listeners().getFirst().listen()).isEqualTo(new HostPort("127.0.0.1", 8443));
        assertThat(config.listeners().getFirst().maxConnections()).isEqualTo(500);
        assertThat(config.pool("app").servers()).containsExactly(new ServerEntry(new HostPort("10.1.2.3", 9000), 1));

        FulcrumConfig overridden = ConfigLoader.parse(yaml, "fulcrum.yaml",
                Map.of("NODE", "n", "ZONE", "us", "PORT", "1", "BACKEND", "b:1", "MAX_CONN", "7"));
        assertThat(overridden.name()).isEqualTo("n-us");
        assertThat(overridden.admin().token()).isEmpty();
        assertThat(overridden.listeners().getFirst().maxConnections()).isEqualTo(7);
    }

    @Test
    void allowedHostsAreKeptInLowerCase() {
        FulcrumConfig config = ConfigLoader.parse("""
                admin:
                  listen: 0.0.0.0:9901
                  allowed-hosts: [Admin.Example.org, "[::1]", 10.0.0.5]
                """ + MINIMAL, "fulcrum.yaml", Map.of());
        assertThat(config.admin().allowedHosts()).containsExactly("admin.example.org", "::1", "10.0.0.5");
    }

    /** Issue 12, item 7: printing a config (a debug line, a failed assertion) shows no secret. */
    @Test
    void printingTheConfigShowsNoSecret() {
        FulcrumConfig config = ConfigLoader.parse("""
                admin:
                  token: s3cret-token
                """ + MINIMAL + """
                alerts:
                  - type: webhook
                    url: https://am:hunter2@alerts.example/api/v2/alerts
                """, "fulcrum.yaml", Map.of());
        assertThat(config.toString()).doesNotContain("s3cret-token", "hunter2")
                .contains("token=***", "https://am:***@alerts.example/api/v2/alerts");
        assertThat(config.alerts().getFirst().url().getUserInfo()).as("the sink still gets it").isEqualTo("am:hunter2");
    }

    @Test
    void theExampleFileLoads() {
        FulcrumConfig config = ConfigLoader.load(Path.of("../examples/fulcrum.yaml"), Map.of());

        assertThat(config.listeners()).extracting(Listener::listen).containsExactly(new HostPort("127.0.0.1", 8080));
        assertThat(config.pool("app").servers()).extracting(ServerEntry::address).containsExactly(
                new HostPort("127.0.0.1", 9101), new HostPort("127.0.0.1", 9102), new HostPort("127.0.0.1", 9103));
    }

    @Test
    void theRoutesExampleLoads() {
        FulcrumConfig config = ConfigLoader.load(Path.of("../examples/routes.yaml"), Map.of());

        assertThat(config.listeners().getFirst().routes()).extracting(RouteConfig::name)
                .containsExactly("api", "moved", "site");
        assertThat(config.listeners().getFirst().routes().getLast().destination()).isEqualTo(new RouteConfig.Split(
                List.of(new RouteConfig.PoolWeight("web", 90), new RouteConfig.PoolWeight("web-canary", 10))));
    }

    /** The README's HA pair: the same listeners and pools, priorities 150 and 100. */
    @Test
    void theHaPairExamplesLoadAndDifferOnlyInNameAndPriority() {
        FulcrumConfig lb1 = ConfigLoader.load(Path.of("../examples/ha/lb1.yaml"), Map.of());
        FulcrumConfig lb2 = ConfigLoader.load(Path.of("../examples/ha/lb2.yaml"), Map.of());

        assertThat(lb1.ha().priority()).isEqualTo(150);
        assertThat(lb2.ha().priority()).isEqualTo(100);
        assertThat(lb1.ha().advertInterval()).isEqualTo(java.time.Duration.ofMillis(100));
        assertThat(lb1.ha().virtualIps()).containsExactly("10.0.0.100/24").isEqualTo(lb2.ha().virtualIps());
        assertThat(lb1.listeners()).isEqualTo(lb2.listeners());
        assertThat(lb1.pools()).isEqualTo(lb2.pools());
    }

    /** The reference's "complete file" is the spec example: it must stay valid and mean the same. */
    @Test
    void theReferencesCompleteFileIsTheSpecExample(@TempDir Path dir) throws Exception {
        TestCertificates.create(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        String reference = Files.readString(Path.of("../docs/configuration.md"));
        String section = reference.substring(reference.indexOf(". A complete file\n"));
        String yaml = section.substring(section.indexOf("```yaml\n") + 8, section.indexOf("```\n", section.indexOf("```yaml") + 7));

        FulcrumConfig fromReference = ConfigLoader.parse(yaml.replace("/etc/fulcrum", dir.toString()),
                "configuration.md", Map.of());

        assertThat(fromReference).isEqualTo(ConfigLoader.parse(SPEC_EXAMPLE.formatted(dir), "fulcrum.yaml", Map.of()));
    }

    @Test
    void loadReadsAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fulcrum.yaml");
        Files.writeString(file, MINIMAL);

        assertThat(ConfigLoader.load(file).pool("app").algorithm()).isEqualTo(Algorithm.ROUND_ROBIN);
    }

    @Test
    void aMissingFileIsOneLine(@TempDir Path dir) {
        Path file = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).extracting(ConfigError::toString)
                        .containsExactly(file + ": cannot read: no such file"));
    }
}
