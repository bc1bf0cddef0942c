package dev.fulcrum.core.vrrp;

import java.util.Objects;

/**
 * A received message that must be dropped: the {@link InvalidReason} to count it under (a metric
 * label) and a one-line detail for the log ({@code ttl 64, must be 255}). Immutable.
 */
public record Invalid(InvalidReason reason, String detail) implements Decoded {

    public Invalid {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
    }

    @Override
    public String toString() {
        return reason.label() + ": " + detail;
    }
}
