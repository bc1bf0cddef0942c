package dev.fulcrum.server.cli;

import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.cluster.ClusterNode;
import dev.fulcrum.server.config.FulcrumConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * {@code fulcrum run -c FILE} for a file with a {@code cluster} section: the node starts from etcd
 * (or its state-dir), then runs as {@link RunCommand} describes; on stop it leaves the member list
 * at once (its lease is revoked). A class of its own so that a config without a cluster section
 * never loads jetcd (start-up time).
 */
final class ClusterRun {

    private static final Logger log = LoggerFactory.getLogger(ClusterRun.class);

    private ClusterRun() {
    }

    static int run(FulcrumConfig local, Path file) {
        ClusterNode node = ClusterNode.start(local, file);
        FulcrumServer server = node.server();
        StopSignals.onStop(() -> {
            log.info("stopping (signal again to exit now)");
            server.stop(server.drainTimeout());
        });
        StopSignals.onHangup(() -> {
            log.info("SIGHUP: reloading {} with etcd's shared config", file);
            var outcome = server.reloadFromFile();
            if (!outcome.ok()) {
                System.err.println(outcome.detail());
                log.warn("{} not reloaded; the running config is kept", file);
            }
        });
        StopSignals.onReopen(() -> {
            log.info("SIGUSR1: reopening the access log");
            server.reopenAccessLog();
        });
        log.info("running {} as cluster node {} (pid {}); SIGTERM or SIGINT stops it, SIGHUP re-reads {}",
                local.name(), local.cluster().node(), ProcessHandle.current().pid(), file);
        server.awaitStopped();
        node.close();
        log.info("stopped");
        return 0;
    }
}
