package dev.fulcrum.core.route;

/**
 * A request's header fields as route matching reads them, answered by the HTTP layer from its
 * indexed head without copying fields out. Field names are asked by number: {@code name} is an
 * index into {@link RouteTable#fieldNames()}, so an implementation turns each name into its own
 * lookup key once per table (an {@code AsciiString} for the head's {@code indexOf}), not once per
 * request. Implementations belong to one request on one thread.
 */
public interface RequestFields {

    /**
     * The first field at or after field index {@code from} whose name is
     * {@code fieldNames().get(name)}, ignoring case; -1 when there is none.
     */
    int indexOf(int name, int from);

    /**
     * True when field {@code field}'s value, without surrounding whitespace, is {@code value}
     * exactly: the same length and the same octets (each char of {@code value} an octet, as
     * ISO-8859-1 reads them).
     */
    boolean valueIs(int field, String value);
}
