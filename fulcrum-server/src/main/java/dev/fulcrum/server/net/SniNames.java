package dev.fulcrum.server.net;

import java.util.List;
import java.util.Locale;

/**
 * Which certificate a client's SNI picks: the first whose names hold it exactly, else the first
 * whose wildcard ({@code *.example.net}, one label only) covers it, else the first certificate (the
 * default), or none when strict. A handshake without SNI (a client that dialled an IP address) gets
 * the default even when strict: strictness refuses names no certificate covers, and an absent name
 * is not one. Immutable; safe from any thread.
 */
final class SniNames {

    /** What {@link #pick} returns when strict and no certificate covers the name. */
    static final int NONE = -1;

    private final List<List<String>> names;
    private final boolean strict;

    /** @param names per certificate, in config order, each its SAN DNS names (else its CN) */
    SniNames(List<List<String>> names, boolean strict) {
        this.names = names.stream().map(n -> n.stream().map(SniNames::lower).toList()).toList();
        this.strict = strict;
    }

    /** @return the index of the certificate for {@code host} (null = no SNI), or {@link #NONE} */
    int pick(String host) {
        if (host == null) {
            return 0;
        }
        String name = lower(host);
        int exact = indexOf(name);
        if (exact != NONE) {
            return exact;
        }
        int dot = name.indexOf('.');
        int wildcard = dot > 0 ? indexOf("*" + name.substring(dot)) : NONE;
        if (wildcard != NONE) {
            return wildcard;
        }
        return strict ? NONE : 0;
    }

    /** The first certificate that lists {@code name} as it is, or {@link #NONE}. */
    private int indexOf(String name) {
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).contains(name)) {
                return i;
            }
        }
        return NONE;
    }

    private static String lower(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }
}
