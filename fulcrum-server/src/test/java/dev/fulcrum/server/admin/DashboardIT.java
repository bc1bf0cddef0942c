package dev.fulcrum.server.admin;

import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.CertificateFiles;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.dsr.DsrStatus;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.HeadlessChromium;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in headless Chromium (Debian {@code chromium} and {@code chromium-driver}), driven
 * by Selenium: it loads without console errors, lists the servers, follows a server going down
 * within 3 s, its buttons call the API, its routes table follows the routes' counts, and its
 * listeners table shows TLS certificates, highlighting one that expires soon. Leaves
 * {@code target/dashboard.png} and {@code target/dashboard-listeners.png} for review.
 */
class DashboardIT {

    private AdminFixture f;
    private HeadlessChromium chromium;
    private WebDriver browser;
    private final AtomicBoolean trafficOn = new AtomicBoolean(true);
    private Thread traffic;

    @BeforeAll
    static void needsChromium() {
        assumeTrue(HeadlessChromium.available(), HeadlessChromium.MISSING);
    }

    @AfterEach
    void stop() throws Exception {
        trafficOn.set(false);
        if (traffic != null) {
            traffic.join(5000);
        }
        if (chromium != null) {
            chromium.close();
        }
        if (f != null) {
            f.close();
        }
    }

    @Test
    void showsEveryServerFollowsAFailureAndItsButtonsWork() throws Exception {
        f = new AdminFixture("");
        startTraffic();
        browser = open();

        browser.get(f.base.resolve("/").toString());

        await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 3);
        assertThat(rows()).extracting(r -> r.getAttribute("data-address")).containsExactlyElementsOf(AdminFixture.SERVERS);
        assertThat(stateOf("127.0.0.1:9102")).isEqualTo("up");
        // not in a cluster: once the status is shown, the cluster panel stays hidden
        await().atMost(Duration.ofSeconds(10)).until(() -> !browser.findElement(By.id("instance")).getText().isEmpty());
        assertThat(browser.findElement(By.id("cluster-panel")).isDisplayed()).isFalse();

        Server second = f.pool.pool().find("127.0.0.1:9102").orElseThrow();
        f.registry.setCheck(f.pool, second, CheckState.DOWN, "3 checks failed: connection refused");
        long failedAt = System.nanoTime();

        await().atMost(Duration.ofSeconds(3)).until(() -> "down".equals(stateOf("127.0.0.1:9102")));
        long shownMs = (System.nanoTime() - failedAt) / 1_000_000;
        assertThat(shownMs).isLessThan(3000);
        WebElement down = browser.findElement(By.cssSelector("tr[data-address='127.0.0.1:9102'] .state"));
        assertThat(down.getAttribute("class")).contains("state-down");
        await().atMost(Duration.ofSeconds(3)).until(() ->
                browser.findElement(By.id("events")).getText().contains("server-down"));

        // the Drain button drains through the API, and the page follows
        browser.findElement(By.cssSelector("tr[data-address='127.0.0.1:9101'] button")).click();
        await().atMost(Duration.ofSeconds(3)).until(() -> "draining".equals(stateOf("127.0.0.1:9101")));
        assertThat(f.pool.pool().find("127.0.0.1:9101").orElseThrow().state()).isEqualTo(ServerState.DRAINING);
        browser.findElement(By.cssSelector("tr[data-address='127.0.0.1:9101'] button")).click();
        await().atMost(Duration.ofSeconds(3)).until(() -> "up".equals(stateOf("127.0.0.1:9101")));

        // the add-server form
        WebElement form = browser.findElement(By.cssSelector("form.add[data-pool='app']"));
        form.findElement(By.name("address")).sendKeys("127.0.0.1:9104");
        form.findElement(By.cssSelector("button")).click();
        await().atMost(Duration.ofSeconds(3)).until(() -> rows().size() == 4);
        assertThat(f.pool.pool().find("127.0.0.1:9104")).isPresent();

        // a few seconds of chart for the screenshot, then the p99 figure is known
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).until(() ->
                !browser.findElement(By.id("total-p99")).getText().equals("–")
                        && ((Number) ((ChromeDriver) browser).executeScript("return samples.length")).intValue() >= 6);
        ((ChromeDriver) browser).executeScript("window.scrollTo(0, 0); document.activeElement.blur()");
        Path shot = Path.of("target", "dashboard.png");
        Files.createDirectories(shot.getParent());
        Files.write(shot, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));

        assertThat(chromium.consoleProblems()).as("browser console").isEmpty();
    }

    @Test
    void asksForTheTokenWhenTheApiAnswers401AndThenActs() throws Exception {
        f = new AdminFixture("dash-token");
        browser = open();
        browser.get(f.base.resolve("/").toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> rows().size() == 3);
        assertThat(browser.findElement(By.id("token-bar")).isDisplayed()).isFalse();

        browser.findElement(By.cssSelector("tr[data-address='127.0.0.1:9103'] button")).click();

        await().atMost(Duration.ofSeconds(3)).until(() -> browser.findElement(By.id("token-bar")).isDisplayed());
        assertThat(f.pool.pool().find("127.0.0.1:9103").orElseThrow().state()).isEqualTo(ServerState.UP);
        browser.findElement(By.id("token")).sendKeys("dash-token");
        browser.findElement(By.cssSelector("#token-form button")).click();

        // the pending action is retried with the token, and the token is kept for the next ones
        await().atMost(Duration.ofSeconds(3)).until(() -> "draining".equals(stateOf("127.0.0.1:9103")));
        assertThat(f.pool.pool().find("127.0.0.1:9103").orElseThrow().state()).isEqualTo(ServerState.DRAINING);
        assertThat(((ChromeDriver) browser).executeScript("return localStorage.getItem('fulcrum.token')"))
                .isEqualTo("dash-token");
    }

    /** The DSR panel shows what {@code /api/v1/status} says of DSR, and follows it as it changes. */
    @Test
    void showsDirectServerReturnStateAndFollowsIt() throws Exception {
        java.util.concurrent.atomic.AtomicReference<DsrStatus> dsr = new java.util.concurrent.atomic.AtomicReference<>(
                new DsrStatus("10.0.0.100", List.of(80, 443), "eth0", "app", 2, 1000, 2, List.of(
                        new DsrStatus.Target("10.0.0.21:80", "02:00:00:00:00:21", true),
                        new DsrStatus.Target("10.0.0.22:80", null, false))));
        f = new AdminFixture("", registry -> hooks(registry, dsr::get, List.of()));
        browser = open();
        browser.get(f.base.resolve("/").toString());

        await().atMost(Duration.ofSeconds(10)).until(() -> dsrPanel().contains("1000 forwarded"));
        assertThat(dsrPanel()).contains("10.0.0.100 ports 80, 443 on eth0", "app", "2 forwarder threads",
                "1000 forwarded, 2 dropped", "02:00:00:00:00:21", "MAC unknown", "(no new flows)");

        dsr.set(new DsrStatus("10.0.0.100", List.of(80, 443), "eth0", "app", 2, 5000, 3, List.of(
                new DsrStatus.Target("10.0.0.21:80", "02:00:00:00:00:21", true),
                new DsrStatus.Target("10.0.0.22:80", "02:00:00:00:00:22", true))));
        await().atMost(Duration.ofSeconds(5)).until(() -> dsrPanel().contains("5000 forwarded, 3 dropped"));
        assertThat(dsrPanel()).contains("02:00:00:00:00:22").doesNotContain("no new flows");
    }

    /** The routes table shows the routes in force, in order, and its counts follow the requests. */
    @Test
    void showsTheRoutesAndTheirCountsGrow() throws Exception {
        List<FulcrumConfig.Listener> listeners = ConfigLoader.parse("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    routes:
                      - name: api
                        match: {path-prefix: /api/}
                        pool: app
                      - match: {path: /old}
                        redirect: {location: "https://example.com/new", status: 308}
                  - name: raw
                    listen: 127.0.0.1:8081
                    protocol: tcp
                    pool: app
                pools:
                  - name: app
                """, "dashboard.yaml", java.util.Map.of()).listeners();
        f = new AdminFixture("", registry -> hooks(registry, () -> null, listeners));
        browser = open();
        browser.get(f.base.resolve("/").toString());

        await().atMost(Duration.ofSeconds(10)).until(() -> routeRow("web|web#2").size() == 6);
        assertThat(browser.findElements(By.cssSelector("#routes tbody tr"))).extracting(r -> r.getAttribute("data-route"))
                .containsExactly("web|api", "web|web#2");
        assertThat(routeRow("web|api")).containsExactly("web", "api", "app", "0", "0", "0");
        assertThat(routeRow("web|web#2")).containsExactly("web", "web#2", "308 → https://example.com/new", "0", "0", "0");

        ListenerMetrics web = f.metrics.proxy().listener("web");
        Server server = f.pool.pool().servers().getFirst();
        for (int i = 0; i < 5; i++) {
            web.route("api").requestCompleted("app", server, 200, 1_000_000);
        }
        web.route("api").requestCompleted("app", null, 503, 1_000_000);
        web.route("api").requestCompleted("", null, 429, 0);

        await().atMost(Duration.ofSeconds(5)).until(() -> routeRow("web|api").equals(
                List.of("web", "api", "app", "7", "1", "1")));
        assertThat(routeRow("web|web#2")).endsWith("0", "0", "0");
    }

    /**
     * The listeners panel shows each listener's protocols and, for a TLS listener, its certificates
     * (names, serial, key, expiry); the one that expires within 14 days stands out in another colour.
     */
    @Test
    void showsListenersWithTheirCertificatesAndHighlightsOneThatExpiresSoon(@TempDir Path dir) throws Exception {
        var soon = TestCertificates.create(dir.resolve("soon.pem"), dir.resolve("soon.key"), KeyType.RSA,
                "soon.example.com", List.of("soon.example.com", "www.example.com"), "0a", 2);
        var later = TestCertificates.create(dir.resolve("later.pem"), dir.resolve("later.key"), KeyType.ECDSA,
                "wild", List.of("*.example.net"), "0b", 90);
        List<FulcrumConfig.Listener> listeners = ConfigLoader.parse("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8443
                    pool: app
                    tls:
                      certificates:
                        - {cert: %s, key: %s}
                        - {cert: %s, key: %s}
                  - name: raw
                    listen: 127.0.0.1:8081
                    protocol: tcp
                    pool: app
                pools:
                  - name: app
                """.formatted(soon.cert(), soon.key(), later.cert(), later.key()), "dashboard.yaml",
                java.util.Map.of()).listeners();
        List<java.security.cert.X509Certificate> served = List.of(
                CertificateFiles.load(soon.cert(), soon.key()).leaf(),
                CertificateFiles.load(later.cert(), later.key()).leaf());
        f = new AdminFixture("", registry -> hooks(registry, () -> null, listeners,
                name -> name.equals("web") ? served : List.of()));
        browser = open();
        browser.get(f.base.resolve("/").toString());

        await().atMost(Duration.ofSeconds(10)).until(() -> !browser.findElements(
                By.cssSelector("#listeners tr[data-listener='web'] .certificate")).isEmpty());
        assertThat(browser.findElements(By.cssSelector("#listeners tbody tr")))
                .extracting(r -> r.getAttribute("data-listener")).containsExactly("web", "raw");
        assertThat(cells("web").subList(0, 3)).containsExactly("web", "127.0.0.1:8443", "http · h2, http/1.1");
        assertThat(cells("raw")).containsExactly("raw", "127.0.0.1:8081", "tcp", "none");
        assertThat(cells("web").get(3)).matches("(?s)(BoringSSL|JDK) · from TLSv1\\.2\n.*");

        WebElement expiring = certificate("a");
        WebElement fine = certificate("b");
        assertThat(expiring.getText()).contains("soon.example.com, www.example.com", "serial a", "RSA 2048",
                "1 day left");
        assertThat(expiring.getAttribute("class")).contains("expiring");
        assertThat(fine.getText()).contains("*.example.net", "serial b", "ECDSA 256", "89 days left");
        assertThat(fine.getAttribute("class")).doesNotContain("expiring");
        assertThat(expiring.getCssValue("color")).as("highlighted").isNotEqualTo(fine.getCssValue("color"));

        ((ChromeDriver) browser).executeScript("document.getElementById('listeners').scrollIntoView()");
        Path shot = Path.of("target", "dashboard-listeners.png");
        Files.createDirectories(shot.getParent());
        Files.write(shot, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    private List<String> cells(String listener) {
        return browser.findElements(By.cssSelector("#listeners tr[data-listener='" + listener + "'] > td")).stream()
                .map(WebElement::getText).toList();
    }

    private WebElement certificate(String serial) {
        return browser.findElement(By.cssSelector("#listeners .certificate[data-serial='" + serial + "']"));
    }

    /** Hooks that answer as {@link AdminHooks#basic} does, with the DSR state and the listeners given. */
    private static AdminHooks hooks(Registry registry, Supplier<DsrStatus> dsr, List<FulcrumConfig.Listener> listeners) {
        return hooks(registry, dsr, listeners, name -> List.of());
    }

    /** The same, with the certificates each listener serves. */
    private static AdminHooks hooks(Registry registry, Supplier<DsrStatus> dsr, List<FulcrumConfig.Listener> listeners,
                                    java.util.function.Function<String, List<java.security.cert.X509Certificate>> certificates) {
        AdminHooks basic = AdminHooks.basic("dashboard-test", registry);
        return new AdminHooks() {
            @Override
            public String instanceName() {
                return basic.instanceName();
            }

            @Override
            public HookResult reload() {
                return basic.reload();
            }

            @Override
            public HookResult healthz() {
                return basic.healthz();
            }

            @Override
            public dev.fulcrum.server.health.CheckResult lastCheck(Server server) {
                return null;
            }

            @Override
            public DsrStatus dsr() {
                return dsr.get();
            }

            @Override
            public List<FulcrumConfig.Listener> listeners() {
                return listeners;
            }

            @Override
            public List<java.security.cert.X509Certificate> certificates(String listener) {
                return certificates.apply(listener);
            }
        };
    }

    /** The texts of the routes table's row of {@code key} ({@code LISTENER|ROUTE}); empty when absent. */
    private List<String> routeRow(String key) {
        try {
            return browser.findElements(By.cssSelector("#routes tr[data-route='" + key + "'] td")).stream()
                    .map(WebElement::getText).toList();
        } catch (org.openqa.selenium.StaleElementReferenceException e) {
            return List.of(); // the row went away between find and read: ask again
        }
    }

    private String dsrPanel() {
        return browser.findElement(By.id("dsr")).getText();
    }

    private List<WebElement> rows() {
        return browser.findElements(By.cssSelector("tr[data-address]"));
    }

    private String stateOf(String address) {
        try {
            List<WebElement> cells = browser.findElements(By.cssSelector("tr[data-address='" + address + "'] .state"));
            return cells.isEmpty() ? null : cells.getFirst().getText();
        } catch (org.openqa.selenium.StaleElementReferenceException e) {
            return null; // the row went away between find and read: ask again
        }
    }

    private WebDriver open() throws Exception {
        chromium = HeadlessChromium.open();
        return chromium.driver();
    }

    /**
     * Requests as the proxy would count them, about 150 a second with a latency that wanders
     * between 2 and 40 ms, so the chart and the rates have something to show. Bounded in time.
     */
    private void startTraffic() {
        ListenerMetrics web = f.metrics.proxy().listener("web");
        traffic = Thread.ofPlatform().daemon().name("fake-traffic").start(() -> {
            long end = System.nanoTime() + 60_000_000_000L;
            long i = 0;
            while (trafficOn.get() && System.nanoTime() < end) {
                List<Server> servers = f.pool.snapshot().balancer().servers().stream().map(w -> w.server()).toList();
                if (!servers.isEmpty()) {
                    Server s = servers.get((int) (i % servers.size()));
                    s.requestStarted();
                    long micros = 2_000 + (long) (19_000 * (1 + Math.sin(i / 40.0)));
                    web.route("web#1").requestCompleted("app", s, i % 97 == 0 ? 502 : 200, micros * 1_000);
                    web.bytes(300, 4_000);
                    s.requestFinished();
                }
                i++;
                try {
                    Thread.sleep(6);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }
}
