package dev.fulcrum.server.config;

import dev.fulcrum.core.text.Escape;

/**
 * One mistake in a config file, where it is and what is wrong, printed as
 * {@code FILE:LINE:COLUMN: key: message}, for example
 * {@code fulcrum.yaml:12:5: pools[0].algorithm: unknown value "round_robin"; expected one of ...}.
 *
 * <p>{@code line} and {@code column} are 1-based and point at the offending value (at the key for an
 * unknown key); both are 0 when the mistake has no place in the text (the file cannot be read), and
 * then the position is left out of {@link #toString()}. {@code key} is the path of the key
 * ({@code listeners[0].tls.cert}), or "" when the mistake is not about one key (a YAML syntax error),
 * and then it is left out too. Immutable.
 */
public record ConfigError(String file, int line, int column, String key, String message) {

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder(file);
        if (line > 0) {
            out.append(':').append(line).append(':').append(column);
        }
        out.append(": ");
        // a key or message may quote the file's text: one error stays one line whatever it holds
        if (!key.isEmpty()) {
            out.append(Escape.text(key)).append(": ");
        }
        return out.append(Escape.text(message)).toString();
    }
}
