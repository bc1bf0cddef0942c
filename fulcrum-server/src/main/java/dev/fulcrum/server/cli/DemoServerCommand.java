package dev.fulcrum.server.cli;

import dev.fulcrum.server.demo.DemoServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code fulcrum demo-server --port N [--name NAME] [--cpus N]}: one demo backend until SIGTERM. */
@Command(name = "demo-server", description = "Runs one demo backend server (used by the demo and by tests).")
final class DemoServerCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Option(names = "--port", required = true, paramLabel = "N", description = "port to listen on (0 = any free)")
    int port;

    @Option(names = "--name", paramLabel = "NAME", description = "the name it answers with (default: the port)")
    String name;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1",
            description = "modelled CPUs: workers for GET /work (default: ${DEFAULT-VALUE})")
    int cpus;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "address to listen on (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "" + DemoServer.Options.DEFAULT_QUEUE,
            description = "GET /work requests that may wait for a worker; more get 503 (default: ${DEFAULT-VALUE})")
    int queue;

    @Override
    public Integer call() {
        DemoServer server = DemoServer.start(new DemoServer.Options(host, port, name, cpus, queue));
        // like run and demo: the first SIGTERM/SIGINT closes and exits 0, a second exits at once
        StopSignals.onStop(server::close);
        server.awaitClosed();
        return 0;
    }
}
