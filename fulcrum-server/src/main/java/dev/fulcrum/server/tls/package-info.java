/**
 * TLS shared by both sides of the proxy: which engine ({@link dev.fulcrum.server.tls.TlsProvider},
 * BoringSSL when it loads) and the ciphers offered, and the TLS Fulcrum originates to a pool's
 * servers ({@link dev.fulcrum.server.tls.PoolTls}, one load of {@code pools[].tls}, carried in the
 * pool's view beside its settings; {@link dev.fulcrum.server.tls.HandshakeFailure} says why a
 * handshake with a server failed). It depends on config only, so that registry (which holds the
 * loaded TLS), http and health can all use it without a package cycle through net.
 */
package dev.fulcrum.server.tls;
