package dev.fulcrum.server.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The {@code admin.token} check for mutating calls: with no token configured every request passes;
 * otherwise the {@code Authorization} header must be {@code Bearer <token>}. The comparison takes
 * the same time wherever the first differing byte is ({@link MessageDigest#isEqual}), so the token
 * cannot be guessed byte by byte from response times. Immutable and thread-safe.
 */
final class BearerToken {

    private static final String SCHEME = "bearer ";

    private final byte[] token;

    BearerToken(String token) {
        this.token = token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8);
    }

    boolean required() {
        return token.length > 0;
    }

    /** True when no token is configured or {@code authorization} carries it. */
    boolean allows(String authorization) {
        if (!required()) {
            return true;
        }
        if (authorization == null || authorization.length() < SCHEME.length()
                || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return false;
        }
        byte[] given = authorization.substring(SCHEME.length()).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token);
    }
}
