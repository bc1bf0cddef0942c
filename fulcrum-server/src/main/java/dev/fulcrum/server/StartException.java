package dev.fulcrum.server;

/**
 * PLACEHOLDER (cli branch) until the lead's runtime lands: start-up failed (a port in use, a
 * missing certificate...); the message is one line for the user.
 */
public final class StartException extends RuntimeException {

    public StartException(String message) {
        super(message);
    }

    public StartException(String message, Throwable cause) {
        super(message, cause);
    }
}
