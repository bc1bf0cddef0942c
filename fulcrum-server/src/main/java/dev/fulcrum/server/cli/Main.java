package dev.fulcrum.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;

/**
 * The {@code fulcrum} command line: {@code run}, {@code validate}, {@code demo},
 * {@code demo-server}, {@code version}, {@code --help}, {@code --version}.
 *
 * <p>Exit codes (spec README.md): 0 success; 1 a failure while running (start failed, a port in
 * use...); 2 a usage error or a bad config. Every error is one line on stderr,
 * {@code fulcrum: <message>}; no stack trace reaches the user.
 */
@Command(name = "fulcrum", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "A load balancer: one entry point in front of a pool of servers.",
        footer = {"", "Exit codes: 0 success; 1 a failure while running (e.g. a port in use);"
                + " 2 a usage error or a bad config file."},
        subcommands = {RunCommand.class, ValidateCommand.class, DemoCommand.class, DemoServerCommand.class,
                DsrServerSetupCommand.class,
                VersionCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    /** Netty's buffer leak detector; see {@link #main}. */
    static final String LEAK_DETECTION = "io.netty.leakDetection.level";

    public static void main(String[] args) {
        // Netty samples buffers for leak reports by default, which costs ~1 µs of a ~27 µs proxied
        // request here (bench/README.md). The test suite keeps Netty's default and so still finds
        // leaks; a running balancer turns it off unless the operator asks for it with
        // JAVA_OPTS=-Dio.netty.leakDetection.level=simple (or paranoid). Set before Netty loads.
        if (System.getProperty(LEAK_DETECTION) == null) {
            System.setProperty(LEAK_DETECTION, "disabled");
        }
        Thread.setDefaultUncaughtExceptionHandler(Main::uncaught);
        System.exit(execute(args));
    }

    /**
     * Runs one command line and returns its exit code (no {@code System.exit}). Whatever a command
     * throws, an {@link Error} such as {@link OutOfMemoryError} included, ends as one line on stderr
     * and exit 1: picocli's handler only sees {@link Exception}s, so the rest is caught here.
     */
    static int execute(String... args) {
        try {
            return new CommandLine(new Main())
                    .setParameterExceptionHandler(Main::usageError)
                    .setExecutionExceptionHandler((e, cmd, parsed) -> {
                        cmd.getErr().println("fulcrum: " + oneLine(e));
                        return EXIT_FAILURE;
                    })
                    .execute(args);
        } catch (Throwable e) {
            System.err.println("fulcrum: " + e.getClass().getSimpleName() + ": " + oneLine(e));
            return EXIT_FAILURE;
        }
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
