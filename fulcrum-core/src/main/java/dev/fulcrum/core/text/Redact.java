package dev.fulcrum.core.text;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hides credentials before text is printed: the password of a URL's userinfo
 * ({@code http://user:pass@host/} becomes {@code http://user:***@host/}) and the value of a query
 * parameter whose name says it is a secret ({@code ?token=}, {@code &api_key=}, {@code ?sig=},
 * {@code ?password=}) wherever a URL appears in the text, and whole secrets such as the admin token. It works on text, not on a parsed
 * {@link java.net.URI}, so a URL that does not parse (and is echoed in the error saying so) is
 * redacted too.
 *
 * <p>Stateless and thread-safe.
 */
public final class Redact {

    public static final String MASK = "***";

    /**
     * A scheme, "//", then a userinfo: anything up to the first '@' that has no '/', '?', '#' or
     * blank before it (RFC 3986: the authority ends at the first of those).
     */
    private static final Pattern USERINFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\"'<>\\r\\n]*)@");

    /** {@code ?name=value} / {@code &name=value} where the name holds token, key, secret, pass(word), pwd, auth or sig. */
    private static final Pattern SECRET_PARAMETER = Pattern.compile(
            "([?&][A-Za-z0-9_.-]*(?i:token|key|secret|passw|pwd|auth|sig)[A-Za-z0-9_.-]*=)([^&#\\s\"'<>]+)");

    private Redact() {
    }

    /**
     * {@code text} with the password of every URL userinfo replaced by {@value #MASK} (a userinfo
     * without a password, {@code http://token@host/}, often a token itself, is masked whole), and
     * the values of secret-named query parameters too.
     */
    public static String urls(String text) {
        if (text == null) {
            return null;
        }
        return secretParameters(userInfo(text));
    }

    private static String secretParameters(String text) {
        if (text.indexOf('=') < 0) {
            return text;
        }
        Matcher m = SECRET_PARAMETER.matcher(text);
        if (!m.find()) {
            return text;
        }
        return m.replaceAll(match -> Matcher.quoteReplacement(match.group(1) + MASK));
    }

    private static String userInfo(String text) {
        if (text.indexOf('@') < 0) {
            return text;
        }
        Matcher m = USERINFO.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            String userinfo = m.group(2);
            int colon = userinfo.indexOf(':');
            String masked = colon < 0 ? MASK : userinfo.substring(0, colon + 1) + MASK;
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + masked + "@"));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A secret as it may be shown: {@value #MASK} when set, "" when empty. */
    public static String secret(String secret) {
        return secret == null || secret.isEmpty() ? "" : MASK;
    }
}
