package dev.fulcrum.server.config;

import java.util.List;

/**
 * PLACEHOLDER (cli branch) until the config helper's version lands: a config file that cannot be
 * used, with every problem found.
 */
public final class ConfigException extends RuntimeException {

    private final transient List<ConfigError> errors;

    public ConfigException(List<ConfigError> errors) {
        super(errors.isEmpty() ? "invalid config" : errors.getFirst().toString());
        this.errors = List.copyOf(errors);
    }

    public List<ConfigError> errors() {
        return errors;
    }
}
