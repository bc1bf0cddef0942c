package dev.fulcrum.server.net;

/**
 * Why a listening socket could not be bound, in words for the operator: the epoll and NIO
 * transports word the same error differently ({@code bind(..) failed with error(-98): Address
 * already in use} against {@code Address already in use}). Stateless; thread-safe.
 */
public final class BindFailure {

    private BindFailure() {
    }

    /** One line naming the reason, e.g. {@code address already in use}. */
    public static String describe(Throwable cause) {
        if (cause instanceof java.nio.channels.UnresolvedAddressException) {
            return "unknown host"; // it has no message at all
        }
        if (cause.getMessage() == null || cause.getMessage().isBlank()) {
            return cause.getClass().getSimpleName();
        }
        String message = cause.getMessage();
        if (message.contains("Address already in use")) {
            return "address already in use";
        }
        if (message.contains("Cannot assign requested address")) {
            return "address not available on this machine";
        }
        if (message.contains("Permission denied")) {
            return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
        }
        return message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
