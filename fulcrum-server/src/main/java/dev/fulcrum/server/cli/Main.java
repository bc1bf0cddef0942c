package dev.fulcrum.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;
import java.util.List;

/**
 * The {@code fulcrum} command line: {@code run}, {@code validate}, {@code cluster}, {@code demo},
 * {@code demo-server}, {@code version}, {@code --help}, {@code --version}.
 *
 * <p>Exit codes (spec README.md): 0 success; 1 a failure while running (start failed, a port in
 * use...); 2 a usage error or a bad config. Every error is one line on stderr,
 * {@code fulcrum: <message>}; no stack trace reaches the user.
 */
@Command(name = "fulcrum", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "A load balancer: one entry point in front of a pool of servers.",
        footer = {"", "Exit codes: 0 success; 1 a failure while running (e.g. a port in use);"
                + " 2 a usage error or a bad config file."})
public final class Main implements Runnable {

    /**
     * The subcommands, in the order {@code --help} lists them. Added in code rather than through
     * {@code @Command(subcommands = ...)} so that a command line naming one gets only that one
     * (see {@link #commandLine}).
     */
    private static final List<String> COMMANDS =
            List.of("run", "validate", "cluster", "demo", "demo-server", "dsr-server-setup", "version", "help");

    // A switch, not a map of constructor references: with method references held in a static
    // field, the JDK 25.0.3 AOT cache assembly (-XX:AOTCacheOutput) crashed (archiveHeapWriter).
    private static Object newCommand(String name) {
        return switch (name) {
            case "run" -> new RunCommand();
            case "validate" -> new ValidateCommand();
            case "cluster" -> ClusterCommand.commandLine();
            case "demo" -> new DemoCommand();
            case "demo-server" -> new DemoServerCommand();
            case "dsr-server-setup" -> new DsrServerSetupCommand();
            case "version" -> new VersionCommand();
            case "help" -> new CommandLine.HelpCommand();
            default -> throw new IllegalArgumentException(name);
        };
    }

    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    /** Netty's buffer leak detector; see {@link #main}. */
    static final String LEAK_DETECTION = "io.netty.leakDetection.level";
    static final String NETTY_JFR = "io.netty.jfr.enabled";

    public static void main(String[] args) {
        // Netty samples buffers for leak reports by default, which costs ~1 µs of a ~27 µs proxied
        // request here (bench/README.md). The test suite keeps Netty's default and so still finds
        // leaks; a running balancer turns it off unless the operator asks for it with
        // JAVA_OPTS=-Dio.netty.leakDetection.level=simple (or paranoid). Set before Netty loads.
        if (System.getProperty(LEAK_DETECTION) == null) {
            System.setProperty(LEAK_DETECTION, "disabled");
        }
        // Start-up (issue 13): Netty's buffer allocator registers its JFR events on the first
        // request, ~60-200 ms on the event loop (JFR metadata, annotation proxies, none of which
        // the AOT cache can hold). A balancer does not need them: they are off by default even in
        // a recording, and -Dio.netty.jfr.enabled=true brings them back.
        if (System.getProperty(NETTY_JFR) == null) {
            System.setProperty(NETTY_JFR, "false");
        }
        Thread.setDefaultUncaughtExceptionHandler(Main::uncaught);
        RunCommand run = RunCommand.plain(args);
        System.exit(run != null ? runPlain(run) : execute(args));
    }

    /**
     * Runs {@code fulcrum run -c FILE} as picocli would have (see {@link RunCommand#plain}): what it
     * throws ends as one line on stderr and exit 1, as in {@link #execute}.
     */
    static int runPlain(RunCommand run) {
        try {
            return run.call();
        } catch (Exception e) {
            System.err.println("fulcrum: " + oneLine(e));
            return EXIT_FAILURE;
        } catch (Throwable e) {
            return crashed(e);
        }
    }

    /**
     * Runs one command line and returns its exit code (no {@code System.exit}). Whatever a command
     * throws, an {@link Error} such as {@link OutOfMemoryError} included, ends as one line on stderr
     * and exit 1: picocli's handler only sees {@link Exception}s, so the rest is caught here.
     */
    static int execute(String... args) {
        try {
            return commandLine(args)
                    .setParameterExceptionHandler(Main::usageError)
                    .setExecutionExceptionHandler((e, cmd, parsed) -> {
                        cmd.getErr().println("fulcrum: " + oneLine(e));
                        return EXIT_FAILURE;
                    })
                    .execute(args);
        } catch (Throwable e) {
            return crashed(e);
        }
    }

    /** What no command handler caught (an {@link Error} such as OOM): one line naming its class, exit 1. */
    private static int crashed(Throwable e) {
        System.err.println("fulcrum: " + e.getClass().getSimpleName() + ": " + oneLine(e));
        return EXIT_FAILURE;
    }

    /**
     * The command line for {@code args}. Picocli builds each command's model from its annotations
     * by reflection, which on a fresh JVM costs start-up time for every command (issue 13): when
     * the first argument names a command, only that one is added — its parsing, usage errors and
     * help read the same — and otherwise ({@code --help}, {@code help}, none, an unknown word)
     * all of them.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cmd = new CommandLine(new Main());
        if (args.length > 0 && !args[0].equals("help") && COMMANDS.contains(args[0])) {
            cmd.addSubcommand(args[0], newCommand(args[0]));
        } else {
            for (String name : COMMANDS) {
                cmd.addSubcommand(name, newCommand(name));
            }
        }
        return cmd;
    }

    /**
     * A thread that dies of an exception nobody caught: one line on stderr (its name and the
     * exception), not the JVM's default stack trace; the trace stays available at DEBUG.
     */
    private static void uncaught(Thread thread, Throwable e) {
        System.err.println("fulcrum: thread " + thread.getName() + " failed: " + e.getClass().getSimpleName()
                + ": " + oneLine(e));
        org.slf4j.LoggerFactory.getLogger(Main.class).debug("thread {} failed", thread.getName(), e);
    }

    /** Without a subcommand. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing a command");
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        String help = cmd.getCommandSpec().qualifiedName() + " --help";
        if (e instanceof UnmatchedArgumentException u && cmd.getCommandSpec().parent() == null
                && !u.getUnmatched().isEmpty() && !u.getUnmatched().getFirst().startsWith("-")) {
            err.println("fulcrum: unknown command \"" + u.getUnmatched().getFirst() + "\"; see " + help);
        } else {
            err.println("fulcrum: " + oneLine(e) + "; see " + help);
        }
        return EXIT_USAGE;
    }

    /** The exception's message on one line, or its type when it has none. */
    static String oneLine(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            message = e.getClass().getSimpleName();
        }
        return message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
