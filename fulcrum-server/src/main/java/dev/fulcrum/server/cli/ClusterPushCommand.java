package dev.fulcrum.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fulcrum.server.cluster.EtcdStore;
import dev.fulcrum.server.cluster.EtcdUnavailableException;
import dev.fulcrum.server.cluster.KeyLayout;
import dev.fulcrum.server.cluster.SharedConfig;
import dev.fulcrum.server.config.ConfigException;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code fulcrum cluster push -c FILE}: validates the file, then makes etcd's shared config the
 * file's shared sections — listeners, pools and their servers, autoscale, alerts — in one
 * transaction (keys that changed are written, keys the file no longer has are deleted, unchanged
 * keys are left alone so that nodes see only real changes), and prints its revision. Exit 0; 1
 * etcd unreachable; 2 a bad config, no cluster section, or no shared section at all (a node's own
 * file, whose push would delete the whole shared config).
 */
@Command(name = "push", description = {"Writes the file's shared sections (listeners, pools with their servers, "
        + "autoscale, alerts) to etcd in one transaction and prints its revision.",
        "Shared keys the file no longer has are deleted; every node applies the change.",
        "Exit codes: 0 pushed (or nothing to change); 1 etcd unreachable; 2 a bad config file, no cluster section, "
                + "or no shared section (a node's own file: pushing it would delete the shared config)."})
final class ClusterPushCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "a config file with a cluster section")
    Path config;

    @Override
    public Integer call() {
        FulcrumConfig file;
        ObjectNode tree;
        try {
            file = ConfigLoader.load(config);
            tree = SharedConfig.readTree(config);
        } catch (ConfigException e) {
            ValidateCommand.printErrors(e);
            return Main.EXIT_USAGE;
        } catch (IOException e) {
            System.err.println("fulcrum: cannot read " + config + ": " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        if (file.cluster() == null) {
            System.err.println("fulcrum: " + config + " has no cluster section: nowhere to push to");
            return Main.EXIT_USAGE;
        }
        KeyLayout layout = new KeyLayout(file.cluster().prefix());
        SortedMap<String, String> wanted = SharedConfig.split(tree, layout);
        if (wanted.isEmpty()) {
            // a node's own file, most likely: pushing it would delete the whole shared config
            System.err.println("fulcrum: " + config + " has no shared section (listeners, pools, autoscale, alerts);"
                    + " pushing it would delete the cluster's config");
            return Main.EXIT_USAGE;
        }
        try (EtcdStore store = new EtcdStore(file.cluster())) {
            EtcdStore.Snapshot current = store.readAll(layout.config());
            SortedMap<String, String> puts = new TreeMap<>();
            wanted.forEach((k, v) -> {
                if (!v.equals(current.keys().get(k))) {
                    puts.put(k, v);
                }
            });
            List<String> deletes = new ArrayList<>();
            current.keys().keySet().stream().filter(k -> !wanted.containsKey(k)).forEach(deletes::add);
            if (puts.isEmpty() && deletes.isEmpty()) {
                System.out.println("revision " + current.revision() + " (nothing to change)");
                return 0;
            }
            long revision = store.commit(puts, deletes);
            System.out.println("revision " + revision + " (" + puts.size() + " key(s) written, " + deletes.size()
                    + " deleted)");
            return 0;
        } catch (EtcdUnavailableException e) {
            System.err.println("fulcrum: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}
