package dev.fulcrum.server.cluster;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.testing.EtcdCluster;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The etcd wrapper against one real etcd member: a transaction arrives on a watch as one revision
 * with all its changes; a watch from a compacted revision ends saying so; a call to an etcd that
 * does not answer fails within its deadline, in one line.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EtcdStoreIT {

    @TempDir
    static Path dir;

    private static EtcdCluster etcd;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(EtcdCluster.available(), "no etcd binary: apt-get install etcd-server");
        etcd = EtcdCluster.start(1, dir.resolve("etcd"));
    }

    @AfterAll
    static void stop() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private static EtcdStore store(List<String> endpoints) {
        return new EtcdStore(new FulcrumConfig.Cluster(endpoints.stream().map(URI::create).toList(), "/t", "t",
                Duration.ofSeconds(5), dir, null, Map.of()));
    }

    private record Seen(long revision, List<EtcdStore.Change> changes) {
    }

    @Test
    void aTransactionIsOneRevisionOnTheWatch() throws Exception {
        try (EtcdStore store = store(etcd.endpoints())) {
            long first = store.commit(Map.of("/t/a/1", "one"), List.of());
            List<Seen> seen = new CopyOnWriteArrayList<>();
            var watcher = store.watch("/t/a/", first + 1, new EtcdStore.Changes() {
                @Override
                public void onRevision(long revision, List<EtcdStore.Change> changes) {
                    seen.add(new Seen(revision, changes));
                }

                @Override
                public void onEnd(Throwable cause, boolean compacted) {
                }
            });
            try {
                TreeMap<String, String> puts = new TreeMap<>(Map.of("/t/a/2", "two", "/t/a/3", "three"));
                long second = store.commit(puts, List.of("/t/a/1"));
                await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
                assertThat(seen).singleElement().satisfies(s -> {
                    assertThat(s.revision()).isEqualTo(second);
                    assertThat(s.changes()).containsExactlyInAnyOrder(new EtcdStore.Change("/t/a/2", "two"),
                            new EtcdStore.Change("/t/a/3", "three"), new EtcdStore.Change("/t/a/1", null));
                });
                assertThat(store.readAll("/t/a/").keys()).containsExactly(Map.entry("/t/a/2", "two"),
                        Map.entry("/t/a/3", "three"));
            } finally {
                watcher.close();
            }
        }
    }

    @Test
    void aWatchFromACompactedRevisionEndsSayingSo() throws Exception {
        try (EtcdStore store = store(etcd.endpoints())) {
            long old = store.commit(Map.of("/t/c/1", "x"), List.of());
            store.commit(Map.of("/t/c/1", "y"), List.of());
            long now = store.commit(Map.of("/t/c/1", "z"), List.of());
            etcd.compact(0, now);
            Boolean[] compacted = new Boolean[1];
            var watcher = store.watch("/t/c/", old, new EtcdStore.Changes() {
                @Override
                public void onRevision(long revision, List<EtcdStore.Change> changes) {
                }

                @Override
                public void onEnd(Throwable cause, boolean wasCompacted) {
                    if (compacted[0] == null) { // the first end says why; jetcd may complete the stream after it
                        compacted[0] = wasCompacted;
                    }
                }
            });
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> compacted[0] != null);
                assertThat(compacted[0]).isTrue();
            } finally {
                watcher.close();
            }
        }
    }

    @Test
    void aCallToAnEtcdThatDoesNotAnswerFailsWithinItsDeadline() throws Exception {
        try (EtcdStore store = store(List.of("http://127.0.0.1:" + Loopback.freePort()))) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.readAll("/t/")).isInstanceOf(EtcdUnavailableException.class)
                    .hasMessageStartingWith("etcd").hasMessageNotContaining("\n");
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertThat(millis).isLessThan(EtcdStore.CALL_DEADLINE.toMillis() + 1_000);
        }
    }
}
