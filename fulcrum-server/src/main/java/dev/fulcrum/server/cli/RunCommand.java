package dev.fulcrum.server.cli;

import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.dsr.DsrService;
import dev.fulcrum.server.ha.HaSpeaker;
import dev.fulcrum.server.config.ConfigException;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.net.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code fulcrum run -c FILE}: loads the config (exit 2 with its errors when bad), starts the load
 * balancer (exit 1 with one line when that fails, e.g. a port in use), then runs until SIGTERM or
 * SIGINT: a graceful stop that lets in-flight requests finish for up to the longest
 * {@code drain-timeout} of the pools, then exit 0; a second signal exits at once (see
 * {@link StopSignals}). SIGHUP re-reads the file: a bad file is reported and the running config
 * kept. SIGUSR1 reopens the access log's file (after logrotate renamed it). With {@code ha} or {@code dsr}, a host that cannot run them (not Linux, no CAP_NET_RAW
 * and CAP_NET_ADMIN, unknown interface) is reported in one line, exit 2.
 */
@Command(name = "run", description = {"Runs the load balancer from a config file.",
        "SIGTERM or SIGINT stops it gracefully: no new connections, in-flight requests get up to the "
                + "longest drain-timeout of the pools, then exit 0; a second signal exits at once. "
                + "SIGHUP re-reads the file (a bad file is reported and the running config kept). "
                + "SIGUSR1 reopens the access log's file (after logrotate renamed it).",
        "With ha or dsr: needs Linux and root (or CAP_NET_RAW and CAP_NET_ADMIN) and the named interface; "
                + "otherwise one line and exit 2.",
        "With a cluster section: listeners, pools, autoscale and alerts come from etcd (see fulcrum cluster push), "
                + "every change there is applied; without etcd at start, the state saved in state-dir is served "
                + "(none: exit 1)."})
final class RunCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the config file")
    Path config;

    /**
     * The command for {@code args} when they are exactly {@code run -c FILE} or
     * {@code run --config FILE} (what a service runs), without picocli; null for any other
     * command line, which then goes through picocli as usual (help, errors and the other forms
     * of the option read the same). Start-up (issue 13): picocli's ~170 classes are Java 5
     * class files, which JDK 25's AOT cache does not hold, and building a command's model reads
     * its annotations by reflection; together ~90 ms of a ~400 ms start. Arguments picocli
     * would treat specially ({@code @FILE}, an option-like FILE, a path the file system
     * rejects) take picocli's way.
     */
    static RunCommand plain(String... args) {
        if (args.length != 3 || !args[0].equals("run") || !(args[1].equals("-c") || args[1].equals("--config"))
                || args[2].isEmpty() || args[2].startsWith("-") || args[2].startsWith("@")) {
            return null;
        }
        RunCommand run = new RunCommand();
        try {
            run.config = Path.of(args[2]);
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
        return run;
    }

    @Override
    public Integer call() {
        Transport.loadAhead(); // while the config is read
        FulcrumConfig first;
        try {
            first = ConfigLoader.load(config);
        } catch (ConfigException e) {
            ValidateCommand.printErrors(e);
            return Main.EXIT_USAGE;
        }
        java.util.Optional<String> problem = java.util.Optional.empty();
        if (first.ha() != null) {
            problem = HaSpeaker.problem(first.ha());
        }
        if (problem.isEmpty() && first.dsr() != null) {
            problem = DsrService.problem(first.dsr());
        }
        if (problem.isPresent()) {
            System.err.println("fulcrum: " + problem.get());
            return Main.EXIT_USAGE;
        }
        if (first.cluster() != null) {
            // its own class, so that jetcd's classes load only for a config with a cluster section
            return ClusterRun.run(first, config);
        }
        FulcrumServer server = FulcrumServer.start(first, config);
        StopSignals.onStop(() -> {
            log.info("stopping (signal again to exit now)");
            server.stop(server.drainTimeout()); // of the config in force, reloads included
        });
        StopSignals.onHangup(() -> reload(server));
        StopSignals.onReopen(() -> {
            log.info("SIGUSR1: reopening the access log");
            server.reopenAccessLog();
        });
        log.info("running {} (pid {}); SIGTERM or SIGINT stops it, SIGHUP re-reads {}, SIGUSR1 reopens the access log",
                first.name(), ProcessHandle.current().pid(), config);
        server.awaitStopped();
        log.info("stopped");
        return 0;
    }

    private void reload(FulcrumServer server) {
        log.info("SIGHUP: reloading {}", config);
        var outcome = server.reloadFromFile();
        if (!outcome.ok()) {
            System.err.println(outcome.detail());
            log.warn("{} not reloaded; the running config is kept", config);
        }
    }
}
