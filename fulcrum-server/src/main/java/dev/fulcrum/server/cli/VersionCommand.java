package dev.fulcrum.server.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code fulcrum version}: prints {@code fulcrum VERSION}, exit 0. */
@Command(name = "version", description = "Prints the version.")
final class VersionCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Override
    public Integer call() {
        System.out.println(Version.line());
        return 0;
    }
}
