package dev.fulcrum.server.log;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.core.text.Redact;

/**
 * The {@code %safeMsg} of Fulcrum's log pattern: the message with control characters escaped
 * ({@link Escape#text}) and URL passwords hidden ({@link Redact#urls}). Every log line is then one
 * line whatever a request, a server or a config file put in its arguments, and a credential that
 * slipped into a message does not reach the log. This is the last line of defence; the code
 * escapes and redacts where it echoes outside text as well.
 *
 * <p>Stateless and thread-safe (logback calls it from every logging thread).
 */
public final class SafeMessageConverter extends ClassicConverter {

    @Override
    public String convert(ILoggingEvent event) {
        String message = event.getFormattedMessage();
        return message == null ? "" : Escape.text(Redact.urls(message));
    }
}
