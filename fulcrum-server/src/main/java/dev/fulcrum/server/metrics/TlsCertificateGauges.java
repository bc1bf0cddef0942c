package dev.fulcrum.server.metrics;

import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.net.ListenerTls;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code fulcrum_tls_certificate_expiry_seconds}: when each certificate a listener serves expires,
 * as a Unix time, read from the running listeners at scrape time, so a reload that renews a
 * certificate shows at the next scrape. Alert on {@code value - time() < 14 * 86400}.
 */
final class TlsCertificateGauges {

    private TlsCertificateGauges() {
    }

    static void register(PrometheusRegistry prometheus, Supplier<List<ListenerRuntime>> listeners) {
        GaugeWithCallback.builder()
                .name("fulcrum_tls_certificate_expiry_seconds")
                .help("When the certificate expires (notAfter), in seconds since the Unix epoch.")
                .labelNames("listener", "name", "serial")
                .callback(cb -> {
                    for (ListenerRuntime listener : listeners.get()) {
                        Set<String> seen = new HashSet<>(); // the same pair listed twice is one series
                        for (X509Certificate leaf : listener.certificates()) {
                            String name = ListenerTls.nameOf(leaf);
                            String serial = leaf.getSerialNumber().toString(16);
                            if (seen.add(name + "/" + serial)) {
                                cb.call(leaf.getNotAfter().getTime() / 1000.0, listener.name(), name, serial);
                            }
                        }
                    }
                })
                .register(prometheus);
    }
}
