package dev.fulcrum.server.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A config file that cannot be used, with every mistake found in it, in file order. The message is
 * the errors one per line, as the {@code validate} command prints them. Unchecked: the caller either
 * prints {@link #errors()} and exits, or (on reload) keeps the running config and logs them.
 */
public final class ConfigException extends RuntimeException {

    private final List<ConfigError> errors;

    public ConfigException(List<ConfigError> errors) {
        super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")), null, false, false);
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    /** The mistakes, in file order (line, then column); never empty. */
    public List<ConfigError> errors() {
        return errors;
    }
}
