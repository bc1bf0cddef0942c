package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The config the TLS reload ITs run: admin, listener web with TLS from {@code cert} and {@code key}, pool one. */
final class TlsReloadConfig {

    private TlsReloadConfig() {
    }

    /** Writes {@code dir/fulcrum.yaml}: admin on {@code admin}, web on {@code port} to {@code server}, no health checks. */
    static Path write(Path dir, int admin, int port, Path cert, Path key, HostPort server) throws IOException {
        Path file = dir.resolve("fulcrum.yaml");
        Files.writeString(file, """
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    pool: one
                    tls: {cert: %s, key: %s}
                pools:
                  - name: one
                    servers: [{address: %s}]
                    health-check: {type: none}
                """.formatted(admin, port, cert, key, server));
        return file;
    }
}
