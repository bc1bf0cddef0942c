package dev.fulcrum.server.net;

/** Fulcrum could not start; the message is one line for the operator (no stack trace). */
public final class StartException extends RuntimeException {
    public StartException(String message) {
        super(message);
    }

    public StartException(String message, Throwable cause) {
        super(message, cause);
    }
}
