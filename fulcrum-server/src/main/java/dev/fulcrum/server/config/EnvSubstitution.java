package dev.fulcrum.server.config;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in one scalar value from the environment.
 * As in the shell, the default applies when the variable is unset or empty. Replaced text is not
 * scanned again, so a value holding {@code ${...}} stays as it is. Stateless.
 */
final class EnvSubstitution {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private EnvSubstitution() {
    }

    /** @throws IllegalArgumentException naming the unset variable or the malformed reference */
    static String substitute(String text, Map<String, String> env) {
        int open = text.indexOf("${");
        if (open < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int done = 0;
        while (open >= 0) {
            int close = text.indexOf('}', open);
            if (close < 0) {
                throw new IllegalArgumentException("unclosed \"${\" in \"" + text
                        + "\"; expected ${NAME} or ${NAME:-default}");
            }
            String inner = text.substring(open + 2, close);
            int separator = inner.indexOf(":-");
            String name = separator < 0 ? inner : inner.substring(0, separator);
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("\"${" + inner + "}\" is not a variable reference;"
                        + " expected ${NAME} or ${NAME:-default}");
            }
            String value = env.get(name);
            if (separator >= 0 && (value == null || value.isEmpty())) {
                value = inner.substring(separator + 2);
            } else if (value == null) {
                throw new IllegalArgumentException("environment variable " + name
                        + " is not set (write ${" + name + ":-default} to give a default)");
            }
            out.append(text, done, open).append(value);
            done = close + 1;
            open = text.indexOf("${", done);
        }
        return out.append(text, done, text.length()).toString();
    }
}
