package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.HeadlessChromium;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard's cluster panel in headless Chromium, on node n1 of a real 3-node cluster (3 etcd
 * members, 3 Fulcrum processes): it lists the members with their addresses and applied revisions,
 * names this node and the auto-scaling leader as {@code GET /api/v1/cluster} does, and shows etcd
 * down within a few seconds of all etcd members' kill. Leaves {@code target/dashboard-cluster.png}.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterDashboardIT {

    @RegisterExtension
    static final ClusterFixture fx = new ClusterFixture();

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @BeforeAll
    static void needsChromium() {
        assumeTrue(HeadlessChromium.available(), HeadlessChromium.MISSING);
    }

    @Test
    void listsTheMembersAndTheLeaderAndShowsEtcdDown() throws Exception {
        String prefix = "/it-dashboard";
        fx.writeShared(prefix);
        List<Node> nodes = fx.startNodes(closer, prefix, 3, fx.etcd().endpoints(), "5s");
        Node n1 = nodes.getFirst();
        await("3 members and a leader").atMost(Duration.ofSeconds(15)).until(() -> {
            JsonNode c = ClusterFixture.getJson(n1.adminPort(), "/api/v1/cluster");
            return c.path("members").size() == 3 && !c.path("leader").isNull();
        });
        String leader = ClusterFixture.getJson(n1.adminPort(), "/api/v1/cluster").path("leader").asText();

        HeadlessChromium chromium = closer.add(HeadlessChromium.open());
        ChromeDriver browser = chromium.driver();
        browser.get("http://127.0.0.1:" + n1.adminPort() + "/");

        await("the cluster panel").atMost(Duration.ofSeconds(10)).until(() ->
                browser.findElement(By.id("cluster-panel")).isDisplayed() && memberRows(browser).size() == 3);
        assertThat(memberRows(browser)).containsExactly(
                List.of(name("n1", "n1", leader), "127.0.0.1:" + nodes.get(0).adminPort()),
                List.of(name("n2", "n1", leader), "127.0.0.1:" + nodes.get(1).adminPort()),
                List.of(name("n3", "n1", leader), "127.0.0.1:" + nodes.get(2).adminPort()));
        assertThat(text(browser, "cluster")).contains("this node n1", "auto-scaling leader " + leader, "members 3",
                "etcd up");
        assertThat(etcdBadgeClass(browser)).contains("state-up");
        // applied revisions and renewals are filled in, and follow the nodes (renewals every lease-ttl/3)
        String renewals = renewals(browser);
        await("renewals move").atMost(Duration.ofSeconds(10)).until(() -> !renewals(browser).equals(renewals));
        assertThat(browser.findElements(By.cssSelector("#cluster-members .applied")))
                .allSatisfy(cell -> assertThat(Long.parseLong(cell.getText())).isPositive());
        Path shot = Path.of("target", "dashboard-cluster.png");
        Files.createDirectories(shot.getParent());
        Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));

        for (int member = 0; member < fx.etcd().size(); member++) {
            fx.etcd().kill(member);
        }
        long killed = System.nanoTime();
        await("etcd shown down").atMost(Duration.ofSeconds(10)).until(() -> text(browser, "cluster").contains("etcd down"));
        System.out.printf("cluster panel: etcd down shown %d ms after the last member's kill%n",
                (System.nanoTime() - killed) / 1_000_000);
        assertThat(etcdBadgeClass(browser)).contains("state-down");
        await("the event in the feed").atMost(Duration.ofSeconds(5)).until(() ->
                text(browser, "events").contains("cluster-etcd-unavailable"));
        assertThat(chromium.consoleProblems()).as("browser console").isEmpty();
    }

    /** "n1 (this node, leader)", as the panel names a member. */
    private static String name(String node, String self, String leader) {
        List<String> marks = new java.util.ArrayList<>();
        if (node.equals(self)) {
            marks.add("this node");
        }
        if (node.equals(leader)) {
            marks.add("leader");
        }
        return marks.isEmpty() ? node : node + " (" + String.join(", ", marks) + ")";
    }

    /** Each member row's name and address cells. */
    private static List<List<String>> memberRows(ChromeDriver browser) {
        try {
            return browser.findElements(By.cssSelector("#cluster-members tbody tr")).stream()
                    .map(r -> r.findElements(By.tagName("td")).stream().limit(2).map(WebElement::getText).toList())
                    .toList();
        } catch (StaleElementReferenceException e) {
            return List.of(); // a row replaced between find and read: ask again
        }
    }

    private static String renewals(ChromeDriver browser) {
        return browser.findElements(By.cssSelector("#cluster-members .renewal")).stream()
                .map(c -> c.getAttribute("title")).toList().toString();
    }

    /** The element's text, its whitespace (a grid's line breaks) as single spaces. */
    private static String text(ChromeDriver browser, String id) {
        try {
            return browser.findElement(By.id(id)).getText().replaceAll("\\s+", " ");
        } catch (StaleElementReferenceException e) {
            return ""; // rebuilt between find and read: ask again
        }
    }

    /** The etcd badge's classes; the summary is rebuilt at each poll, so read again when it was replaced. */
    private static String etcdBadgeClass(ChromeDriver browser) {
        return await().atMost(Duration.ofSeconds(2)).ignoreException(StaleElementReferenceException.class)
                .until(() -> browser.findElement(By.cssSelector("#cluster .etcd")).getAttribute("class"),
                        java.util.Objects::nonNull);
    }
}
