package dev.fulcrum.server.http.codec;

/**
 * A request Fulcrum refuses to forward because its framing is broken or ambiguous: the decoder
 * sets it as the failure cause of the {@code decoderResult()} of the offending message. The proxy
 * answers {@link #status()} with {@link #getMessage()} as the one-line body and closes the
 * connection.
 *
 * <p>Carries no stack trace: a client can provoke it at will, so it must stay cheap. Immutable.
 */
public final class BadRequestException extends RuntimeException {

    private final int status;

    /**
     * @param status  400 (malformed or ambiguous), 405 (a method Fulcrum does not proxy, CONNECT),
     *                413 (body too large) or 431 (head too large)
     * @param message one line naming the problem, e.g. "both Content-Length and Transfer-Encoding"
     */
    public BadRequestException(int status, String message) {
        super(message, null, false, false);
        if (status != 400 && status != 405 && status != 413 && status != 431) {
            throw new IllegalArgumentException("status " + status + " is not 400, 405, 413 or 431");
        }
        this.status = status;
    }

    static BadRequestException badRequest(String message) {
        return new BadRequestException(400, message);
    }

    /** The HTTP status to answer with: 400, 405, 413 or 431. */
    public int status() {
        return status;
    }
}
