package dev.fulcrum.server.net;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.io.BoundedFile;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The TLS context a listener terminates with, loaded once at start from its PEM cert and key. The
 * files are read with {@link BoundedFile}, so a file swapped for a device or a huge file after
 * validation is refused in one line rather than read into the heap.
 */
public final class ListenerTls {

    private ListenerTls() {
    }

    /**
     * @return the server context, or null when the listener has no {@code tls} section
     * @throws IllegalStateException with one line naming the listener, when the files do not load
     */
    public static SslContext load(FulcrumConfig.Listener listener) {
        if (listener.tls() == null) {
            return null;
        }
        String prefix = "listener " + listener.name() + ": cannot load the TLS certificate or key: ";
        byte[] cert;
        byte[] key;
        try {
            cert = pem(listener.tls().cert());
            key = pem(listener.tls().key());
        } catch (IOException e) {
            throw new IllegalStateException(prefix + e.getMessage());
        }
        try {
            return SslContextBuilder.forServer(new ByteArrayInputStream(cert), new ByteArrayInputStream(key)).build();
        } catch (Exception | Error e) {
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse("").strip();
            throw new IllegalStateException(prefix + reason);
        }
    }

    private static byte[] pem(Path file) throws IOException {
        try {
            return BoundedFile.read(file, FulcrumConfig.Tls.MAX_PEM_BYTES);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
