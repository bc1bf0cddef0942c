package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.ratelimit.RateLimitKeys;
import dev.fulcrum.core.ratelimit.RateLimiter;
import dev.fulcrum.server.config.RouteConfig;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.util.AsciiString;

import java.security.SecureRandom;
import java.util.Locale;

/**
 * A route's {@code rate-limit} as the proxy applies it: one {@link RateLimiter} for the whole
 * process (all event loops share it) and where each request's key comes from — the client's
 * address, or the value of a header ({@code key: header:NAME}). A request without that header is
 * limited by its client's address instead, so leaving the header out is no way around the limit.
 * Keys are hashed under a secret drawn at start-up ({@link RateLimitKeys}), so a client cannot
 * choose values that share another client's bucket. Thread-safe.
 */
final class RouteLimit {

    private static final RateLimitKeys KEYS = newKeys();

    private final RateLimiter limiter;
    /** The header the key is read from, lower case; null for the client's address. */
    private final AsciiString header;

    RouteLimit(RouteConfig.RateLimit config, long nowNanos) {
        this.limiter = new RateLimiter(config.requestsPerSecond(), config.burst(), nowNanos);
        this.header = config.key().source() == HashKey.Source.HEADER
                ? AsciiString.cached(config.key().name().toLowerCase(Locale.ROOT)) : null;
    }

    private static RateLimitKeys newKeys() {
        SecureRandom random = new SecureRandom();
        return new RateLimitKeys(random.nextLong(), random.nextLong());
    }

    /**
     * Takes a token for {@code request}: {@link RateLimiter#ALLOWED}, or the whole seconds until
     * one is free (for {@code Retry-After}, at least 1). A refused request takes none.
     */
    long acquire(MessageHead request, String clientIp, long nowNanos) {
        CharSequence key = clientIp;
        if (header != null) {
            int i = request.indexOf(header);
            if (i >= 0) {
                key = request.value(i);
            }
        }
        return limiter.acquire(KEYS.of(key), nowNanos);
    }
}
