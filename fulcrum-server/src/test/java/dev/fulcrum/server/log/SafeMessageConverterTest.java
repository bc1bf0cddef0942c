package dev.fulcrum.server.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The last line of defence of the log: one event, one line, no URL password (issue 12, items 7 and 8). */
class SafeMessageConverterTest {

    private static String converted(String format, Object... args) {
        LoggerContext context = new LoggerContext();
        Logger logger = context.getLogger("test");
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.WARN, format, null, args);
        return new SafeMessageConverter().convert(event);
    }

    @Test
    void anArgumentCannotForgeALine() {
        assertThat(converted("admin GET {} failed", "/x\r\n12:00:00.000 INFO  forged"))
                .isEqualTo("admin GET /x\\r\\n12:00:00.000 INFO  forged failed");
        assertThat(converted("detail {}", "\u001b[2Jgone")).isEqualTo("detail \\u001b[2Jgone");
    }

    @Test
    void aUrlPasswordIsHidden() {
        assertThat(converted("posting to {}", "https://am:hunter2@alerts.example/api/v2/alerts"))
                .isEqualTo("posting to https://am:***@alerts.example/api/v2/alerts");
    }

    @Test
    void theProductionLayoutUsesIt() throws Exception {
        LoggerContext context = new LoggerContext();
        LogConfigurator.install(context);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
        var console = (ConsoleAppender<ILoggingEvent>) root.getAppender("CONSOLE");
        var layout = ((LayoutWrappingEncoder<ILoggingEvent>) console.getEncoder()).getLayout();
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), context.getLogger("dev.fulcrum.Test"), Level.WARN,
                "admin GET {} failed, posting to {}", null,
                new Object[] {"/x\r\n12:00:00.000 INFO  forged", "https://am:hunter2@alerts.example/"});
        assertThat(layout.doLayout(event)).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  Test admin GET "
                + "/x\\\\r\\\\n12:00:00\\.000 INFO  forged failed, posting to https://am:\\*\\*\\*@alerts\\.example/\n");
    }

    @Test
    void logbackFindsTheConfigurator() throws Exception {
        try (var in = LogConfigurator.class.getResourceAsStream("/META-INF/services/" + Configurator.class.getName())) {
            assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip())
                    .isEqualTo(LogConfigurator.class.getName());
        }
    }
}
