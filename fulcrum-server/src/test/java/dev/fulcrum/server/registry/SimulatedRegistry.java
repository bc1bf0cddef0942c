package dev.fulcrum.server.registry;

import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.ManualScheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A registry from a YAML config on a control plane in simulated time, recording every event it
 * emits: the set-up the simulated-time tests of the registry and of what drives it (a reload)
 * share. Close it after each test.
 */
public final class SimulatedRegistry implements AutoCloseable {

    /** The config the registry was built from. */
    public final FulcrumConfig config;
    public final ControlPlane control = ManualScheduler.controlPlane();
    public final ManualScheduler time = ManualScheduler.of(control);
    public final Registry registry;
    public final List<PoolEvent> events = new ArrayList<>();

    public SimulatedRegistry(String yaml) {
        config = parse(yaml);
        registry = Registry.fromConfig(config, control);
        registry.onEvent(events::add);
    }

    public static FulcrumConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, "fulcrum.yaml", Map.of());
    }

    @Override
    public void close() {
        registry.close();
        control.close();
    }
}
