package dev.fulcrum.server.config;

import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Files with mistakes: each gives the exact {@code FILE:LINE:COLUMN: key: message} lines an operator
 * reads from {@code fulcrum validate}, all of them, in file order.
 */
class ConfigLoaderErrorsTest {

    private static final String LISTENER_AND_POOL = """
            listeners:
              - name: web
                listen: 127.0.0.1:8080
                pool: app
            pools:
              - name: app
            """;

    private static void assertErrors(String yaml, String... expected) {
        assertErrors(yaml, Map.of(), expected);
    }

    private static void assertErrors(String yaml, Map<String, String> env, String... expected) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(yaml, "fulcrum.yaml", env));
        assertThat(e).as("a ConfigException").isNotNull();
        assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(expected);
        assertThat(e.getMessage()).isEqualTo(String.join("\n", expected));
    }

    @Test
    void unknownKeyIsReportedAtTheKeyWithTheKeysExpected() {
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    pool: app
                    listne: 127.0.0.1:8081
                pools:
                  - name: app
                """,
                "fulcrum.yaml:5:5: listeners[0].listne: unknown key; expected one of name, listen, protocol, pool,"
                        + " routes, tls, max-connections, idle-timeout, request-header-timeout, max-header-bytes, request-body-timeout, request-body-min-rate, http2");
    }

    @Test
    void misspeltRequiredKeyIsBothUnknownAndMissing() {
        assertErrors("""
                listeners:
                  - name: web
                    listne: 127.0.0.1:8080
                    pool: app
                pools:
                  - name: app
                """,
                "fulcrum.yaml:2:5: listeners[0].listen: required key is missing",
                "fulcrum.yaml:3:5: listeners[0].listne: unknown key; expected one of name, listen, protocol, pool,"
                        + " routes, tls, max-connections, idle-timeout, request-header-timeout, max-header-bytes, request-body-timeout, request-body-min-rate, http2");
    }

    @Test
    void unknownAlgorithmNamesTheAlgorithms() {
        assertErrors(LISTENER_AND_POOL + """
                    algorithm: round_robin
                """,
                "fulcrum.yaml:7:5: pools[0].algorithm: unknown value \"round_robin\"; expected one of round-robin,"
                        + " least-connections, least-request, random, maglev, ring-hash");
    }

    @Test
    void poolProtocolIsOneOfTheUpstreamProtocols() {
        assertErrors(LISTENER_AND_POOL + """
                    protocol: http2
                """,
                "fulcrum.yaml:7:5: pools[0].protocol: unknown value \"http2\"; expected one of http/1.1, h2c, h2");
    }

    @Test
    void wrongTypes() {
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    pool: app
                    max-connections: lots
                    tls: yes
                pools:
                  - name: app
                    servers:
                      address: 127.0.0.1:9101
                    retries: [1, 2]
                alerts: log
                """,
                "fulcrum.yaml:5:5: listeners[0].max-connections: expected a whole number, got \"lots\"",
                "fulcrum.yaml:6:5: listeners[0].tls: expected a map, got \"yes\"",
                "fulcrum.yaml:9:5: pools[0].servers: expected a list, got a map",
                "fulcrum.yaml:11:5: pools[0].retries: expected a single value, got a list",
                "fulcrum.yaml:12:1: alerts: expected a list, got \"log\"");
    }

    @Test
    void outOfRangeValuesSayTheRange() {
        assertErrors(LISTENER_AND_POOL + """
                    retries: 11
                    servers:
                      - address: 127.0.0.1:9101
                        weight: 300
                    health-check:
                      rise: 0
                      jitter: 150%
                """,
                "fulcrum.yaml:7:5: pools[0].retries: 11 is out of range; expected 0..10",
                "fulcrum.yaml:10:9: pools[0].servers[0].weight: 300 is out of range; expected 0..256",
                "fulcrum.yaml:12:7: pools[0].health-check.rise: 0 is out of range; expected at least 1",
                "fulcrum.yaml:13:7: pools[0].health-check.jitter: 150% is out of range; expected 0%..100%");
    }

    @Test
    void duplicatePoolName() {
        assertErrors(LISTENER_AND_POOL + """
                  - name: app
                """,
                "fulcrum.yaml:7:5: pools[1].name: duplicate pool name \"app\"; first at line 6");
    }

    @Test
    void duplicateListenerNameAndAddress() {
        assertErrors(LISTENER_AND_POOL.replace("pools:", """
                  - name: web
                    listen: 127.0.0.1:8080
                    pool: app
                pools:"""),
                "fulcrum.yaml:5:5: listeners[1].name: duplicate listener name \"web\"; first at line 2",
                "fulcrum.yaml:6:5: listeners[1].listen: duplicate listen address \"127.0.0.1:8080\"; first at line 3");
    }

    @Test
    void missingPoolReferenceNamesThePoolsThereAre() {
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    pool: ap
                pools:
                  - name: app
                  - name: api
                dsr:
                  interface: eth0
                  virtual-ip: 10.0.0.100
                  pool: nope
                """,
                "fulcrum.yaml:4:5: listeners[0].pool: no pool named \"ap\"; defined pools: app, api",
                "fulcrum.yaml:11:3: dsr.pool: no pool named \"nope\"; defined pools: app, api");
    }

    @Test
    void dsrTableGraceIsAtMostTheIdleExpiryOfAFlow() {
        assertErrors(LISTENER_AND_POOL + """
                dsr:
                  interface: eth0
                  virtual-ip: 10.0.0.100
                  pool: app
                  table-grace: 20m
                """,
                "fulcrum.yaml:11:3: dsr.table-grace: 20m is out of range; expected 0s..15m (a flow idle longer is"
                        + " forgotten anyway)");
    }

    @Test
    void listenerCannotShareTheAdminAddress() {
        assertErrors(LISTENER_AND_POOL.replace("127.0.0.1:8080", "127.0.0.1:9901"),
                "fulcrum.yaml:3:5: listeners[0].listen: address 127.0.0.1:9901 is the admin API's (admin.listen)");
    }

    @Test
    void duplicateServerAddressWithinAPool() {
        assertErrors(LISTENER_AND_POOL + """
                    servers:
                      - address: 127.0.0.1:9101
                      - address: 127.0.0.1:9102
                      - address: 127.0.0.1:9101
                  - name: other
                    servers:
                      - address: 127.0.0.1:9101
                """,
                "fulcrum.yaml:10:9: pools[0].servers[2].address: duplicate server address \"127.0.0.1:9101\";"
                        + " first at line 8");
    }

    @Test
    void healthCheckTimeoutMustBeLessThanInterval() {
        assertErrors(LISTENER_AND_POOL + """
                    health-check:
                      interval: 2s
                      timeout: 2s
                  - name: other
                    health-check:
                      interval: 500ms
                """,
                "fulcrum.yaml:9:7: pools[0].health-check.timeout: timeout 2s must be less than interval 2s",
                "fulcrum.yaml:12:7: pools[1].health-check.interval: timeout 1s must be less than interval 500ms");
    }

    @Test
    void scaleInBelowMustBeLessThanScaleOutAbove() {
        assertErrors(LISTENER_AND_POOL + """
                autoscale:
                  - pool: app
                    scale-out-above: 0.5
                    scale-in-below: 0.5
                    min-servers: 4
                    max-servers: 3
                    provisioner:
                      type: exec
                      scale-out: [./out.sh]
                      scale-in: [./in.sh, "{address}"]
                """,
                "fulcrum.yaml:10:5: autoscale[0].scale-in-below: scale-in-below 0.5 must be less than scale-out-above 0.5",
                "fulcrum.yaml:11:5: autoscale[0].min-servers: min-servers 4 must be at most max-servers 3");
    }

    @Test
    void badDurationShowsTheForms() {
        assertErrors(LISTENER_AND_POOL + """
                    connect-timeout: 2 seconds
                    drain-timeout: 5
                """,
                "fulcrum.yaml:7:5: pools[0].connect-timeout: invalid duration \"2 seconds\"; expected a whole number"
                        + " and a unit: 250ms, 2s, 1m, 1h",
                "fulcrum.yaml:8:5: pools[0].drain-timeout: invalid duration \"5\"; expected a whole number and a unit:"
                        + " 250ms, 2s, 1m, 1h");
    }

    @Test
    void badAddressUsesTheParsersMessage() {
        assertErrors(LISTENER_AND_POOL.replace("127.0.0.1:8080", "localhost") + """
                    servers:
                      - address: 127.0.0.1:99999
                """,
                "fulcrum.yaml:3:5: listeners[0].listen: expected host:port, got \"localhost\"",
                "fulcrum.yaml:8:9: pools[0].servers[0].address: port 99999 is outside 1..65535 in \"127.0.0.1:99999\"");
    }

    @Test
    void yamlSyntaxErrorIsOneLineWithItsPosition() {
        assertErrors("""
                listeners:
                  - name: web
                    listen: "127.0.0.1:8080
                    pool: app
                """,
                "fulcrum.yaml:5:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar"
                        + " started at line 3)");
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                   pool: app
                """,
                "fulcrum.yaml:4:4: invalid YAML: expected <block end>, but found '<block mapping start>'"
                        + " (while parsing a block collection started at line 2); check the indentation");
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                ---
                pools: []
                """,
                "fulcrum.yaml:4:1: invalid YAML: expected a single document in the stream, but found another document");
    }

    @Test
    void unsetEnvironmentVariableIsNamed() {
        assertErrors(LISTENER_AND_POOL.replace("127.0.0.1:8080", "127.0.0.1:${PORT}"), Map.of("OTHER", "1"),
                "fulcrum.yaml:3:5: listeners[0].listen: environment variable PORT is not set"
                        + " (write ${PORT:-default} to give a default)");
    }

    @Test
    void severalMistakesAreAllReportedInFileOrder() {
        assertErrors("""
                name: edge
                admin:
                  listen: 127.0.0.1
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    protocol: udp
                    pool: app
                pools:
                  - name: app
                    algorithm: fastest
                    servers:
                      - address: 127.0.0.1:9101
                        weight: -1
                    retries: 2
                    health-check:
                      type: http
                      intervall: 2s
                alerts:
                  - type: webhook
                  - type: log
                    url: http://127.0.0.1:9093/
                ha:
                  interface: eth0
                  virtual-router-id: 0
                  priority: 255
                  advert-interval: 15ms
                  virtual-ips: [10.0.0.300/24]
                """,
                "fulcrum.yaml:3:3: admin.listen: expected host:port, got \"127.0.0.1\"",
                "fulcrum.yaml:7:5: listeners[0].protocol: unknown value \"udp\"; expected one of http, tcp",
                "fulcrum.yaml:11:5: pools[0].algorithm: unknown value \"fastest\"; expected one of round-robin,"
                        + " least-connections, least-request, random, maglev, ring-hash",
                "fulcrum.yaml:14:9: pools[0].servers[0].weight: -1 is out of range; expected 0..256",
                "fulcrum.yaml:18:7: pools[0].health-check.intervall: unknown key; expected one of type, path, host,"
                        + " expect-status, interval, timeout, rise, fall, jitter",
                "fulcrum.yaml:20:5: alerts[0].url: required key is missing",
                "fulcrum.yaml:22:5: alerts[1].url: not allowed for type log (only for type webhook)",
                "fulcrum.yaml:25:3: ha.virtual-router-id: 0 is out of range; expected 1..255",
                "fulcrum.yaml:26:3: ha.priority: 255 is out of range; expected 1..254",
                "fulcrum.yaml:27:3: ha.advert-interval: 15ms is not a multiple of 10ms (VRRP counts in centiseconds)",
                "fulcrum.yaml:28:17: ha.virtual-ips[0]: \"10.0.0.300\" is not an IPv4 address; each part is 0..255");
    }

    @Test
    void tlsFilesMustBeReadable(@TempDir Path dir) throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "cert");
        Path missing = dir.resolve("missing-key.pem");
        assertErrors(LISTENER_AND_POOL.replace("    pool: app\n", """
                    pool: app
                    tls:
                      cert: %s
                      key: %s
                """.formatted(cert, missing)),
                "fulcrum.yaml:7:7: listeners[0].tls.key: cannot read " + missing + ": no such file");
    }

    @Test
    void tlsCertificatesListAndItsKeysAreCheckedAtTheirLines(@TempDir Path dir) throws Exception {
        TestCertificates.Files a = TestCertificates.create(dir.resolve("a.pem"), dir.resolve("a.key"));
        TestCertificates.Files b = TestCertificates.create(dir.resolve("b.pem"), dir.resolve("b.key"));
        assertErrors(LISTENER_AND_POOL.replace("    pool: app\n", """
                    pool: app
                    tls:
                      certificates:
                        - {cert: %1$s, key: %2$s}
                        - cert: %3$s
                          key: %2$s
                      cert: %1$s
                      min-version: TLSv1.1
                      sni-strict: maybe
                """.formatted(a.cert(), a.key(), b.cert())),
                "fulcrum.yaml:9:11: listeners[0].tls.certificates[1].key: " + a.key()
                        + ": is not the key of the certificate in " + b.cert(),
                "fulcrum.yaml:10:7: listeners[0].tls.cert: give either certificates: or the short form"
                        + " cert: + key:, not both",
                "fulcrum.yaml:11:7: listeners[0].tls.min-version: expected TLSv1.2 or TLSv1.3, got \"TLSv1.1\"",
                "fulcrum.yaml:12:7: listeners[0].tls.sni-strict: expected true or false, got \"maybe\"");
    }

    @Test
    void tlsClientCaMustHoldACertificate(@TempDir Path dir) throws Exception {
        TestCertificates.Files a = TestCertificates.create(dir.resolve("a.pem"), dir.resolve("a.key"));
        assertErrors(LISTENER_AND_POOL.replace("    pool: app\n", """
                    pool: app
                    tls:
                      cert: %1$s
                      key: %2$s
                      client-ca: %2$s
                """.formatted(a.cert(), a.key())),
                "fulcrum.yaml:8:7: listeners[0].tls.client-ca: " + a.key() + ": not a PEM certificate (signed fields invalid)");
    }

    @Test
    void tlsCertificatesMayNotBeEmpty() {
        assertErrors(LISTENER_AND_POOL.replace("    pool: app\n", """
                    pool: app
                    tls:
                      certificates: []
                """),
                "fulcrum.yaml:6:7: listeners[0].tls.certificates: at least one certificate is required");
    }

    @Test
    void tlsFilesMustBeSmallRegularFiles(@TempDir Path dir) throws IOException {
        Path key = Files.writeString(dir.resolve("key.pem"), "key");
        Path huge = dir.resolve("huge.pem");
        try (var file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            file.setLength(50L << 20); // sparse: 50 MiB long, nothing written
        }
        assertErrors(LISTENER_AND_POOL.replace("    pool: app\n", """
                    pool: app
                    tls:
                      cert: /dev/zero
                      key: %s
                  - name: web2
                    listen: 127.0.0.1:8081
                    pool: app
                    tls:
                      cert: %s
                      key: %s
                """.formatted(key, huge, key)),
                "fulcrum.yaml:6:7: listeners[0].tls.cert: cannot read /dev/zero: not a regular file (a device, pipe or socket)",
                "fulcrum.yaml:12:7: listeners[1].tls.cert: cannot read " + huge
                        + ": is 50 MiB, larger than the 1 MiB allowed");
    }

    /** {@code -c /dev/zero} once read until the heap ran out; a 50 MB file cost 410 MiB of it. */
    @Test
    void aConfigFileThatIsADeviceOrHugeIsRefusedBeforeReading(@TempDir Path dir) throws IOException {
        assertUnreadable(Path.of("/dev/zero"), "/dev/zero: cannot read: not a regular file (a device, pipe or socket)");
        Path huge = dir.resolve("huge.yaml");
        try (var file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            file.setLength(50L << 20);
        }
        assertUnreadable(huge, huge + ": cannot read: is 50 MiB, larger than the 1 MiB allowed");
        assertUnreadable(dir, dir + ": cannot read: is a directory");
    }

    private static void assertUnreadable(Path file, String expected) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertThat(e).as("a ConfigException").isNotNull();
        assertThat(e.getMessage()).isEqualTo(expected);
    }

    @Test
    void duplicateKeyPointsAtTheSecond() {
        assertErrors(LISTENER_AND_POOL + """
                    retries: 1
                    retries: 3
                """,
                "fulcrum.yaml:8:5: pools[0].retries: duplicate key; first at line 7");
    }

    @Test
    void theDsrPoolTakesOnlyIpv4Servers() {
        assertErrors("""
                pools:
                  - name: web
                    servers:
                      - address: 10.0.0.21:80
                      - address: backend.local:80
                      - address: "[fd00::22]:80"
                dsr:
                  interface: eth0
                  virtual-ip: 10.0.0.100
                  pool: web
                """,
                "fulcrum.yaml:10:3: dsr.pool: pool \"web\" has server \"backend.local:80\", which is not an IPv4 address; "
                        + "DSR reaches its servers by IPv4 address and MAC on the local network",
                "fulcrum.yaml:10:3: dsr.pool: pool \"web\" has server \"[fd00::22]:80\", which is not an IPv4 address; "
                        + "DSR reaches its servers by IPv4 address and MAC on the local network");
    }

    @Test
    void aDsrOnlyInstanceNeedsNoListener() {
        FulcrumConfig config = ConfigLoader.parse("""
                pools:
                  - name: web
                    servers:
                      - address: 10.0.0.21:80
                dsr:
                  interface: eth0
                  virtual-ip: 10.0.0.100
                  pool: web
                """, "fulcrum.yaml", java.util.Map.of());
        assertThat(config.listeners()).isEmpty();
        assertThat(config.dsr().pool()).isEqualTo("web");
    }

    @Test
    void atLeastOneListenerIsRequired() {
        assertErrors("""
                pools:
                  - name: app
                """,
                "fulcrum.yaml:1:1: listeners: at least one listener is required (or a dsr section)");
        assertErrors("""
                listeners: []
                pools: []
                """,
                "fulcrum.yaml:1:1: listeners: at least one listener is required (or a dsr section)");
        assertErrors("# nothing here\n",
                "fulcrum.yaml:1:1: the file is empty; at least one listener and its pool are required");
    }

    @Test
    void provisionerNeedsItsKeys() {
        assertErrors(LISTENER_AND_POOL + """
                autoscale:
                  - pool: app
                    provisioner:
                      type: process
                      command: ["./fulcrum", "demo-server"]
                  - pool: app
                    provisioner:
                      type: exec
                      ports: 9200-9299
                      scale-out: []
                """,
                "fulcrum.yaml:9:5: autoscale[0].provisioner.ports: required key is missing",
                "fulcrum.yaml:11:7: autoscale[0].provisioner.command: must contain {port}, replaced by the new"
                        + " server's port",
                "fulcrum.yaml:12:5: autoscale[1].pool: duplicate autoscale entry for pool \"app\"; first at line 8",
                "fulcrum.yaml:13:5: autoscale[1].provisioner.scale-in: required key is missing",
                "fulcrum.yaml:15:7: autoscale[1].provisioner.ports: not allowed for type exec (only for type process)",
                "fulcrum.yaml:16:7: autoscale[1].provisioner.scale-out: expected a program and its arguments,"
                        + " like [\"./prog\", \"arg\"], got an empty list");
    }

    @Test
    void webhookUrlMustBeHttp() {
        assertErrors(LISTENER_AND_POOL + """
                alerts:
                  - type: webhook
                    url: ftp://example.org/alerts
                """,
                "fulcrum.yaml:9:5: alerts[0].url: expected an http:// or https:// URL with a host,"
                        + " got \"ftp://example.org/alerts\"");
    }

    @Test
    void hashKeyUsesItsParsersMessage() {
        assertErrors(LISTENER_AND_POOL + """
                    algorithm: maglev
                    hash-key: header
                """,
                "fulcrum.yaml:8:5: pools[0].hash-key: unknown value \"header\"; expected one of source-ip,"
                        + " header:NAME, cookie:NAME, path");
    }

    /** Issue 12, item 8: a server address is host:port and nothing else, and the error cannot forge a line. */
    @Test
    void serverAddressesAreHostAndPortOnly() {
        assertErrors(LISTENER_AND_POOL + """
                    servers:
                      - address: "evil\\r\\nINFO forged:80"
                      - address: "<img src=x>:80"
                      - address: host/path:80
                      - address: user@host:80
                      - address: "my host:80"
                      - address: "nul\\0:80"
                """,
                "fulcrum.yaml:8:9: pools[0].servers[0].address: host \"evil\\r\\nINFO forged\" has the character"
                        + " U+000D; a host name has letters, digits, '-' and '.' only in \"evil\\r\\nINFO forged:80\"",
                "fulcrum.yaml:9:9: pools[0].servers[1].address: host \"<img src=x>\" has '<'; a host name has"
                        + " letters, digits, '-' and '.' only in \"<img src=x>:80\"",
                "fulcrum.yaml:10:9: pools[0].servers[2].address: host \"host/path\" has '/'; a host name has"
                        + " letters, digits, '-' and '.' only in \"host/path:80\"",
                "fulcrum.yaml:11:9: pools[0].servers[3].address: host \"user@host\" has '@'; a host name has"
                        + " letters, digits, '-' and '.' only in \"user@host:80\"",
                "fulcrum.yaml:12:9: pools[0].servers[4].address: host \"my host\" has a space; a host name has"
                        + " letters, digits, '-' and '.' only in \"my host:80\"",
                "fulcrum.yaml:13:9: pools[0].servers[5].address: host \"nul\\u0000\" has the character U+0000;"
                        + " a host name has letters, digits, '-' and '.' only in \"nul\\u0000:80\"");
    }

    @Test
    void anErrorThatQuotesTheFileStaysOneLine() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse("""
                "list\\neners": []
                name: "\\u001b[2J"
                admin: "x\\r\\ny"
                """, "fulcrum.yaml", Map.of()));
        assertThat(e.errors()).allSatisfy(error -> assertThat(error.toString()).doesNotContain("\n", "\r", "\u001b"));
        assertThat(e.getMessage().lines()).hasSize(e.errors().size());
    }

    @Test
    void healthCheckHostIsAHostName() {
        assertErrors(LISTENER_AND_POOL + """
                    health-check:
                      host: "api.example\\r\\nX-Injected"
                """,
                "fulcrum.yaml:8:7: pools[0].health-check.host: host \"api.example\\r\\nX-Injected\" has the"
                        + " character U+000D; a host name has letters, digits, '-' and '.' only");
    }

    @Test
    void allowedHostsAreHostNames() {
        assertErrors(LISTENER_AND_POOL + """
                admin:
                  allowed-hosts: [admin.example.org, "evil.example/x", "10.0.0.256"]
                """,
                "fulcrum.yaml:8:38: admin.allowed-hosts[1]: host \"evil.example/x\" has '/'; a host name has"
                        + " letters, digits, '-' and '.' only",
                "fulcrum.yaml:8:56: admin.allowed-hosts[2]: host \"10.0.0.256\" is not an IPv4 address (four"
                        + " numbers 0..255 with dots)");
    }

    /** Issue 12, item 7: a webhook URL's password never reaches an error message. */
    @Test
    void aWebhookUrlPasswordIsHiddenInErrors() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(LISTENER_AND_POOL + """
                alerts:
                  - type: webhook
                    url: "ftp://am:hunter2@example.org/alerts"
                  - type: webhook
                    url: "http://am:hunter2@exa mple.org/alerts"
                  - type: log
                    url: http://am:hunter2@example.org/alerts
                  - http://am:hunter2@example.org/alerts
                """, "fulcrum.yaml", Map.of()));
        assertThat(e.errors()).hasSize(4);
        assertThat(e.getMessage()).doesNotContain("hunter2").contains("am:***@example.org");
    }

    @Test
    void theInstanceNameAndTheTokenAreOneLineOfText() {
        assertErrors("""
                name: "edge-1\\r\\nINFO forged"
                admin:
                  token: "s3cret with space"
                """ + LISTENER_AND_POOL,
                "fulcrum.yaml:1:1: name: \"edge-1\\r\\nINFO forged\" has a control character",
                "fulcrum.yaml:3:3: admin.token: the token may only have visible ASCII characters, without spaces"
                        + " (character 7 is not one)");
    }
}
