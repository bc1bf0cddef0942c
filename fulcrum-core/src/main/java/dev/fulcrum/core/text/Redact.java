package dev.fulcrum.core.text;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hides credentials before text is printed: the password of a URL's userinfo
 * ({@code http://user:pass@host/} becomes {@code http://user:***@host/}) wherever a URL appears in
 * the text, and whole secrets such as the admin token. It works on text, not on a parsed
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

    private Redact() {
    }

    /**
     * {@code text} with the password of every URL userinfo replaced by {@value #MASK}; a userinfo
     * without a password ({@code http://token@host/}, often a token itself) is masked whole.
     */
    public static String urls(String text) {
        if (text == null || text.indexOf('@') < 0) {
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
