package dev.fulcrum.server.cli;

import dev.fulcrum.server.admin.ClusterStatus;
import dev.fulcrum.server.cluster.ClusterMembers;
import dev.fulcrum.server.cluster.EtcdStore;
import dev.fulcrum.server.cluster.EtcdUnavailableException;
import dev.fulcrum.server.cluster.KeyLayout;
import dev.fulcrum.server.config.ConfigException;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code fulcrum cluster status -c FILE}: the live members (each one's admin address, applied
 * revision and last lease renewal), the revision of etcd, the auto-scaling leader (none while
 * nobody holds the election) and each etcd endpoint's health. Exit 0; 1 etcd unreachable; 2 a bad config.
 */
@Command(name = "status", description = {"Shows the cluster's members (each one's applied revision and last "
        + "lease renewal), the auto-scaling leader and the health of each etcd endpoint.",
        "Exit codes: 0 etcd answered; 1 etcd unreachable; 2 a bad config file or no cluster section."})
final class ClusterStatusCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "a config file with a cluster section")
    Path config;

    @Override
    public Integer call() {
        FulcrumConfig file;
        try {
            file = ConfigLoader.load(config);
        } catch (ConfigException e) {
            ValidateCommand.printErrors(e);
            return Main.EXIT_USAGE;
        }
        if (file.cluster() == null) {
            System.err.println("fulcrum: " + config + " has no cluster section");
            return Main.EXIT_USAGE;
        }
        KeyLayout layout = new KeyLayout(file.cluster().prefix());
        try (EtcdStore store = new EtcdStore(file.cluster())) {
            List<EtcdStore.EndpointStatus> health = store.health();
            EtcdStore.Snapshot members;
            try {
                members = store.readAll(layout.root());
            } catch (EtcdUnavailableException e) {
                printHealth(health);
                System.err.println("fulcrum: " + e.getMessage());
                return Main.EXIT_FAILURE;
            }
            List<ClusterStatus.Member> list = ClusterMembers.parse(members.keys(), layout);
            System.out.println("etcd revision " + members.revision() + ", " + list.size() + " member(s)");
            System.out.printf("%-20s %-22s %-10s %s%n", "NODE", "ADDRESS", "APPLIED", "LAST RENEWAL");
            for (ClusterStatus.Member m : list) {
                System.out.printf("%-20s %-22s %-10d %s%n", m.node(), m.address(), m.appliedRevision(), m.lastRenewal());
            }
            var leader = ClusterMembers.leader(members.keys(), layout);
            System.out.println("auto-scaling leader: " + (leader == null ? "none" : leader));
            printHealth(health);
            return 0;
        }
    }

    private static void printHealth(List<EtcdStore.EndpointStatus> health) {
        for (EtcdStore.EndpointStatus s : health) {
            System.out.println("etcd " + s.endpoint() + ": " + (s.up() ? "up, " : "down: ") + s.detail());
        }
    }
}
