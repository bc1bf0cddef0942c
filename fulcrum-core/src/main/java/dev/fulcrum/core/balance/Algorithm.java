package dev.fulcrum.core.balance;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The balancing algorithms, by their config names. One class each, built by {@link Balancer#create}. */
public enum Algorithm {
    ROUND_ROBIN("round-robin"),
    LEAST_CONNECTIONS("least-connections"),
    LEAST_REQUEST("least-request"),
    RANDOM("random"),
    MAGLEV("maglev"),
    RING_HASH("ring-hash");

    private final String configName;

    Algorithm(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** True for the algorithms that pick by the request's hash key. */
    public boolean usesHashKey() {
        return this == MAGLEV || this == RING_HASH;
    }

    public static Optional<Algorithm> fromConfigName(String name) {
        return Arrays.stream(values()).filter(a -> a.configName.equals(name)).findFirst();
    }

    /** "round-robin, least-connections, ..." for error messages. */
    public static String configNames() {
        return Arrays.stream(values()).map(Algorithm::configName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return configName;
    }
}
