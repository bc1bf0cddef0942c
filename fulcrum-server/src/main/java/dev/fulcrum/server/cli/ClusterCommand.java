package dev.fulcrum.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code fulcrum cluster push|status -c FILE}: the cluster's shared config and its members in etcd
 * (spec cluster.md). The subcommands are added in code, like {@link Main}'s.
 */
@Command(name = "cluster", description = {"Works with a cluster's etcd: the shared config and the member list.",
        "The file's cluster section says where etcd is."},
        footer = {"", "Exit codes: 0 success; 1 etcd unreachable; 2 a usage error or a bad config file."})
final class ClusterCommand implements Runnable {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    static CommandLine commandLine() {
        return new CommandLine(new ClusterCommand())
                .addSubcommand("push", new ClusterPushCommand())
                .addSubcommand("status", new ClusterStatusCommand());
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing a command: push or status");
    }
}
