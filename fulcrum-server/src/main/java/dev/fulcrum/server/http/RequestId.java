package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;

import java.security.SecureRandom;
import java.util.SplittableRandom;

/**
 * {@code X-Request-Id}: the id that ties a request's line in the access log to the server's own
 * logs and to what the client saw. A client's id is kept when it is one field of 1 to
 * {@value #MAX_LENGTH} visible ASCII characters (what fits a log line and a header unchanged);
 * otherwise — absent, empty, too long, spaces or control characters, sent twice — the request gets
 * a new one, and the server sees exactly one.
 *
 * <p>A new id is 32 lower-case hex digits: a per-thread 64-bit prefix from {@link SecureRandom}
 * and a per-thread {@link SplittableRandom}'s next value. Within a thread the second half never
 * repeats in 2^64 ids (a bijective mix of a counter); threads and processes differ by their
 * random prefix. On an event loop that is a thread-local read and a few multiplications, written
 * into the head as bytes: no lock, no system call, no String.
 *
 * <p>Stateless apart from the per-thread generators; thread-safe.
 */
final class RequestId {

    static final String HEADER = "X-Request-Id";
    static final AsciiString NAME = AsciiString.cached("x-request-id");
    static final int MAX_LENGTH = 200;

    private static final SecureRandom SEEDS = new SecureRandom();
    private static final FastThreadLocal<Generator> GENERATORS = new FastThreadLocal<>() {
        @Override
        protected Generator initialValue() {
            return new Generator(SEEDS.nextLong(), new SplittableRandom(SEEDS.nextLong()));
        }
    };

    private record Generator(long prefix, SplittableRandom sequence) {
    }

    private RequestId() {
    }

    /**
     * Makes {@code request} carry exactly one valid {@code X-Request-Id}: the client's, or a new one
     * appended in place of whatever it sent. Returns the field's index in the head.
     */
    static int ensure(MessageHead request) {
        int first = request.indexOf(NAME);
        if (first >= 0 && request.indexOf(NAME, first + 1) < 0 && isValid(request, first)) {
            return first;
        }
        if (first >= 0) {
            request.removeAll(NAME);
        }
        Generator g = GENERATORS.get();
        request.beginField(HEADER);
        request.appendHex(g.prefix());
        request.appendHex(g.sequence().nextLong());
        request.endField();
        return request.size() - 1;
    }

    /** A new id as text, for an answer to a request Fulcrum could not read (so has no head to put it in). */
    static String next() {
        Generator g = GENERATORS.get();
        return hex(g.prefix()) + hex(g.sequence().nextLong());
    }

    /** Field {@code i}'s value is 1..{@value #MAX_LENGTH} visible ASCII characters (no space). */
    private static boolean isValid(MessageHead head, int i) {
        int start = head.valueStart(i);
        int end = head.valueEnd(i);
        if (end == start || end - start > MAX_LENGTH) {
            return false;
        }
        for (int p = start; p < end; p++) {
            byte b = head.byteAt(p);
            if (b < 0x21 || b > 0x7e) {
                return false;
            }
        }
        return true;
    }

    private static String hex(long v) {
        String digits = Long.toHexString(v);
        return "0".repeat(16 - digits.length()) + digits;
    }
}
