package dev.fulcrum.server.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Records what one logger (and its children) logs while open, as the messages the code formatted
 * (before the log pattern's own escaping): for asserting what a class puts in its log lines.
 * Thread-safe to read while the code logs.
 */
public final class LogCapture implements AutoCloseable {

    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public LogCapture(Class<?> of) {
        this((Logger) LoggerFactory.getLogger(of));
    }

    private LogCapture(Logger logger) {
        this.logger = logger;
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    /** The formatted messages so far, oldest first. */
    public List<String> messages() {
        synchronized (appender) { // the lock AppenderBase.doAppend takes to add
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** What every logger logs while open (the root logger's appenders see it all). */
    public static LogCapture everything() {
        return new LogCapture((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME));
    }

    /**
     * The lines so far that no healthy run logs: those at ERROR and those carrying a stack trace,
     * each as {@code LEVEL logger: message [exception: its message]}.
     */
    public List<String> errorsAndStackTraces() {
        synchronized (appender) { // the lock AppenderBase.doAppend takes to add
            return appender.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null)
                    .map(e -> e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage()
                            + thrown(e.getThrowableProxy()))
                    .toList();
        }
    }

    private static String thrown(IThrowableProxy t) {
        return t == null ? "" : " [" + t.getClassName() + ": " + t.getMessage() + "]";
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
