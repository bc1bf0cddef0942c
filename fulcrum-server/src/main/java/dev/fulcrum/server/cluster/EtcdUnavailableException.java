package dev.fulcrum.server.cluster;

/** An etcd call failed or passed its deadline: no quorum, no endpoint reachable, or a refused request. */
public final class EtcdUnavailableException extends RuntimeException {

    public EtcdUnavailableException(String message) {
        super(message);
    }

    public EtcdUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
