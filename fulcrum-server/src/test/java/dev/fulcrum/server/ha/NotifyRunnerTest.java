package dev.fulcrum.server.ha;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code ha.notify} programs run by a real shell: a program that writes more than a pipe holds is
 * not blocked (and killed at the timeout) for it, and what is logged of its output is bounded.
 */
class NotifyRunnerTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(NotifyRunner.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void listen() {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void stopListening() {
        logger.detachAppender(logged);
    }

    @Test
    void aChattyNotifyProgramFinishesAndOnlyTheStartOfItsOutputIsLogged() {
        try (NotifyRunner runner = new NotifyRunner("yes x | tr -d '\\n' | head -c 1048576; true")) {
            runner.run("MASTER");
            await().atMost(Duration.ofSeconds(NotifyRunner.TIMEOUT_SECONDS / 3))
                    .until(() -> logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains("exited 0")));
        }
        ILoggingEvent exited = logged.list.stream().filter(e -> e.getFormattedMessage().contains("exited 0"))
                .findFirst().orElseThrow();
        assertThat(exited.getFormattedMessage()).contains("MASTER").contains("x".repeat(100)).hasSizeLessThan(3000);
    }
}
