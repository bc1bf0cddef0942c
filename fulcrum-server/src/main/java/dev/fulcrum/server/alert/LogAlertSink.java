package dev.fulcrum.server.alert;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code type: log}: one line per alert on the {@code fulcrum.alert} logger, e.g.
 * {@code ALERT FIRING FulcrumServerDown pool=app server=127.0.0.1:9102: 3 checks failed: connection refused}
 * or {@code ALERT RESOLVED FulcrumServerDown pool=app server=127.0.0.1:9102: 2 checks passed}.
 * Thread-safe.
 */
public final class LogAlertSink implements AlertSink {

    private static final Logger log = LoggerFactory.getLogger("fulcrum.alert");

    /** The line this sink writes for an alert. */
    static String line(Alert alert) {
        StringBuilder sb = new StringBuilder("ALERT ").append(alert.resolved() ? "RESOLVED " : "FIRING ")
                .append(alert.name());
        for (String key : new String[]{"pool", "server"}) {
            String value = alert.label(key);
            if (!value.isEmpty()) {
                sb.append(' ').append(key).append('=').append(value);
            }
        }
        String text = alert.description().isEmpty() ? alert.summary() : alert.description();
        if (!text.isEmpty()) {
            sb.append(": ").append(text);
        }
        return sb.toString();
    }

    @Override
    public void send(Alert alert) {
        if (alert.resolved()) {
            log.info("{}", line(alert));
        } else {
            log.warn("{}", line(alert));
        }
    }

    @Override
    public void close() {
    }
}
