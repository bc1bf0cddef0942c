package dev.fulcrum.server.cli;

import dev.fulcrum.server.config.ConfigError;
import dev.fulcrum.server.config.ConfigException;
import dev.fulcrum.server.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code fulcrum validate -c FILE}: checks a config file without starting anything. Exit 0 and
 * {@code FILE: valid} on stdout; exit 2 and one {@code FILE:LINE:COLUMN: key: message} line per
 * error on stderr.
 */
@Command(name = "validate", description = "Checks a config file without starting anything.")
final class ValidateCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the config file")
    Path config;

    @Override
    public Integer call() {
        try {
            ConfigLoader.load(config);
        } catch (ConfigException e) {
            printErrors(e);
            return Main.EXIT_USAGE;
        }
        System.out.println(config + ": valid");
        return 0;
    }

    /** One line per error on stderr, as the spec shows them. */
    static void printErrors(ConfigException e) {
        for (ConfigError error : e.errors()) {
            System.err.println(error);
        }
    }
}
