package dev.fulcrum.server.cli;

import picocli.CommandLine.Option;

/**
 * {@code -h, --help} for the subcommands. Not picocli's {@code mixinStandardHelpOptions}: that also
 * adds {@code -V, --version}, which on a subcommand prints nothing; the version is
 * {@code fulcrum --version} or {@code fulcrum version}.
 */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;
}
