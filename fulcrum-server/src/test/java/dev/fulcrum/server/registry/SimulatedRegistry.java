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
 * emits: the set-up the registry's simulated-time tests share. Close it after each test.
 */
final class SimulatedRegistry implements AutoCloseable {

    final ControlPlane control = ManualScheduler.controlPlane();
    final ManualScheduler time = ManualScheduler.of(control);
    final Registry registry;
    final List<PoolEvent> events = new ArrayList<>();

    SimulatedRegistry(String yaml) {
        registry = Registry.fromConfig(parse(yaml), control);
        registry.onEvent(events::add);
    }

    static FulcrumConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, "fulcrum.yaml", Map.of());
    }

    @Override
    public void close() {
        registry.close();
        control.close();
    }
}
