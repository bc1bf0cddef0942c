package dev.fulcrum.server.http;

import dev.fulcrum.server.config.RouteConfig;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.util.AsciiString;

import java.util.Locale;
import java.util.Map;

/**
 * A route's {@code request-headers} or {@code response-headers}, compiled once per listener: the
 * names to remove, then the fields to set (each replacing every field of its name), applied to a
 * head in place. The config refuses the framing and hop-by-hop names ({@code Content-Length},
 * {@code Transfer-Encoding}, {@code Connection}...), so an edit can never change how a message is
 * delimited. Immutable; thread-safe.
 */
final class FieldEdits {

    private final AsciiString[] remove;
    private final AsciiString[] setLower;
    private final String[] setName;
    private final String[] setValue;

    FieldEdits(RouteConfig.HeaderEdits edits) {
        remove = edits.remove().stream().map(FieldEdits::lower).toArray(AsciiString[]::new);
        int n = edits.set().size();
        setLower = new AsciiString[n];
        setName = new String[n];
        setValue = new String[n];
        int i = 0;
        for (Map.Entry<String, String> e : edits.set().entrySet()) {
            setLower[i] = lower(e.getKey());
            setName[i] = e.getKey();
            setValue[i] = e.getValue();
            i++;
        }
    }

    private static AsciiString lower(String name) {
        return AsciiString.cached(name.toLowerCase(Locale.ROOT));
    }

    /** Removes, then sets, in the file's order. */
    void apply(MessageHead head) {
        for (AsciiString name : remove) {
            head.removeAll(name);
        }
        for (int i = 0; i < setLower.length; i++) {
            head.set(setLower[i], setName[i], setValue[i]);
        }
    }
}
