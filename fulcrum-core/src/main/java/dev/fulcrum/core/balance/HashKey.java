package dev.fulcrum.core.balance;

/**
 * What a consistent-hashing balancer hashes, from the pool's {@code hash-key}:
 * {@code source-ip}, {@code header:NAME}, {@code cookie:NAME} or {@code path}.
 * The data plane extracts the value and hashes it with {@link Hashing#hash64(CharSequence)}.
 */
public record HashKey(Source source, String name) {

    public enum Source { SOURCE_IP, HEADER, COOKIE, PATH }

    public static final HashKey SOURCE_IP = new HashKey(Source.SOURCE_IP, "");

    public HashKey {
        if ((source == Source.HEADER || source == Source.COOKIE) && (name == null || name.isEmpty())) {
            throw new IllegalArgumentException("hash-key " + source.name().toLowerCase() + " needs a name");
        }
    }

    /**
     * Parses the config spelling.
     *
     * @throws IllegalArgumentException naming the expected forms
     */
    public static HashKey parse(String text) {
        if ("source-ip".equals(text)) {
            return SOURCE_IP;
        }
        if ("path".equals(text)) {
            return new HashKey(Source.PATH, "");
        }
        if (text != null && text.startsWith("header:") && text.length() > "header:".length()) {
            return new HashKey(Source.HEADER, text.substring("header:".length()));
        }
        if (text != null && text.startsWith("cookie:") && text.length() > "cookie:".length()) {
            return new HashKey(Source.COOKIE, text.substring("cookie:".length()));
        }
        throw new IllegalArgumentException("unknown value \"" + text
                + "\"; expected one of source-ip, header:NAME, cookie:NAME, path");
    }

    @Override
    public String toString() {
        return switch (source) {
            case SOURCE_IP -> "source-ip";
            case PATH -> "path";
            case HEADER -> "header:" + name;
            case COOKIE -> "cookie:" + name;
        };
    }
}
