package dev.fulcrum.core.route;

import java.util.Locale;

/**
 * One entry of a route's {@code match.headers}: the request has a field {@code name} (compared
 * without case, kept in lower case) whose value, without its surrounding whitespace, is exactly
 * {@code value} (case-sensitive); {@value #PRESENT} asks only that such a field be there. With
 * several fields of that name, one matching field is enough. Immutable.
 */
public record HeaderMatch(String name, String value) {

    /** The value that matches any value: the field only has to be present. */
    public static final String PRESENT = "*";

    public HeaderMatch {
        name = name.toLowerCase(Locale.ROOT);
    }

    /** True when any value will do. */
    public boolean isPresence() {
        return PRESENT.equals(value);
    }
}
