package dev.fulcrum.server.testing;

import java.io.IOException;
import java.util.List;

/**
 * Closing several test resources so that one failure does not leave the others open. Stateless.
 */
public final class Closing {

    private Closing() {
    }

    /**
     * Closes every resource, in the order given, even when some fail; then throws the first
     * failure with the later ones suppressed.
     */
    public static void all(List<? extends AutoCloseable> resources) throws Exception {
        Exception first = null;
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** A set-up step on a resource that must be closed if it fails. */
    @FunctionalInterface
    public interface Setup<T> {
        void run(T resource) throws IOException;
    }

    /**
     * Runs {@code setup} on a new {@code resource} and returns it; when the set-up fails, closes
     * what it built so far (see {@link #afterFailure}) and throws the failure.
     */
    public static <T extends AutoCloseable> T built(T resource, Setup<? super T> setup) throws IOException {
        try {
            setup.run(resource);
        } catch (IOException e) {
            throw afterFailure(e, resource);
        } catch (RuntimeException e) {
            throw afterFailure(e, resource);
        }
        return resource;
    }

    /**
     * For a set-up that failed halfway: closes {@code resource}, keeps a failure to close as
     * suppressed by {@code failure}, and returns {@code failure} to be thrown.
     */
    public static <E extends Throwable> E afterFailure(E failure, AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception suppressed) {
            failure.addSuppressed(suppressed);
        }
        return failure;
    }
}
