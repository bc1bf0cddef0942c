package dev.fulcrum.server.log;

import dev.fulcrum.server.config.AccessLogConfig;
import dev.fulcrum.server.config.AccessLogConfig.Format;
import dev.fulcrum.server.testing.AppendedLines;
import dev.fulcrum.server.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The access log's queue and writer thread, on real files: lines are written off the caller's
 * thread, a full queue drops and counts without blocking, a reopen after a rename loses nothing,
 * a failing file is one error line while traffic goes on.
 */
class AccessLogTest {

    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private final List<AccessLog> logs = new ArrayList<>();

    @AfterEach
    void close() {
        logs.forEach(l -> l.close(BOUND));
    }

    private AccessLog log(int capacity, AccessLogConfig config) {
        AccessLog log = new AccessLog(capacity);
        logs.add(log);
        log.configure(config);
        return log;
    }

    private static AccessLogConfig json(Path file) {
        return new AccessLogConfig(file, Format.JSON);
    }

    /** An entry whose request id is {@code id-N}, to count lines by. */
    static AccessEntry entry(int n) {
        return new AccessEntry(System.currentTimeMillis(), "127.0.0.1", "web", "web#1", "app", "127.0.0.1:9101",
                "GET", "/" + n, "HTTP/1.1", 200, 40, 120, 1_000_000, "id-" + n, null, "test");
    }

    private static List<String> lines(Path file) throws IOException {
        return AppendedLines.of(file);
    }

    private static void awaitLines(Path file, int n) {
        await().atMost(BOUND).until(() -> lines(file).size() >= n);
    }

    /** Once {@code file} is there (opened, or opened again), logs entry {@code n} and waits for a line in it. */
    private static void writeOne(AccessLog log, int n, Path file) {
        await().atMost(BOUND).until(() -> Files.exists(file));
        log.log(entry(n));
        awaitLines(file, 1);
    }

    @Test
    void linesAreWrittenInOrderAndCounted() throws IOException {
        Path file = tmp.resolve("access.log");
        AccessLog log = log(AccessLog.CAPACITY, json(file));
        assertThat(log.enabled()).isTrue();
        for (int i = 0; i < 3000; i++) {
            log.log(entry(i));
        }
        awaitLines(file, 3000);
        List<String> lines = lines(file);
        assertThat(lines).hasSize(3000);
        assertThat(lines.getFirst()).contains("\"request_id\":\"id-0\"");
        assertThat(lines.getLast()).contains("\"request_id\":\"id-2999\"");
        await().atMost(BOUND).until(() -> log.linesWritten() == 3000); // counted after write(2) returns
        assertThat(log.dropped()).isZero();
    }

    @Test
    void aFullQueueDropsAndCountsAndNeverBlocks() throws Exception {
        // a FIFO nobody reads: the writer thread stalls in open(2) until the test reads it
        Path fifo = tmp.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        AccessLog log = log(8, json(fifo));

        long start = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            log.log(entry(i));
        }
        assertThat(System.nanoTime() - start).as("20 entries with a stalled writer").isLessThan(
                TimeUnit.SECONDS.toNanos(1));
        assertThat(log.dropped()).isEqualTo(12);

        CompletableFuture<List<String>> read = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader in = Files.newBufferedReader(fifo, StandardCharsets.US_ASCII)) {
                List<String> got = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    got.add(in.readLine());
                }
                return got;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        List<String> got = read.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(got).hasSize(8).allSatisfy(l -> assertThat(l).startsWith("{\"time\":"));
        assertThat(got.getFirst()).contains("\"id-0\"");
        assertThat(got.getLast()).contains("\"id-7\"");
        // the writer counts a batch after write(2) returns, so the reader may see the lines first
        await().atMost(BOUND).until(() -> log.linesWritten() == 8);
        assertThat(log.dropped()).isEqualTo(12);
    }

    @Test
    void aReopenAfterARenameLosesNothingWhileLinesKeepComing() throws Exception {
        Path file = tmp.resolve("access.log");
        Path rotated = tmp.resolve("access.log.1");
        AccessLog log = log(AccessLog.CAPACITY, json(file));
        int total = 20_000;
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < total; i++) {
                log.log(entry(i));
                if (i % 1000 == 0) {
                    Thread.yield();
                }
            }
        });
        awaitLines(file, 1);
        Files.move(file, rotated); // logrotate's rename...
        log.reopen(); // ...then its signal
        producer.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        await().atMost(BOUND).until(() -> lines(rotated).size() + lines(file).size() == total);

        assertThat(log.dropped()).isZero();
        await().atMost(BOUND).until(() -> log.linesWritten() == total); // counted after write(2) returns
        Set<String> ids = new HashSet<>();
        for (Path p : List.of(rotated, file)) {
            for (String line : lines(p)) {
                ids.add(line.replaceAll(".*\"request_id\":\"(id-\\d+)\".*", "$1"));
            }
        }
        assertThat(ids).hasSize(total);
    }

    @Test
    void afterAReopenTheNextLinesGoToTheNewFile() throws Exception {
        Path file = tmp.resolve("access.log");
        Path rotated = tmp.resolve("access.log.1");
        AccessLog log = log(AccessLog.CAPACITY, json(file));
        writeOne(log, 1, file);
        Files.move(file, rotated);
        log.reopen();
        writeOne(log, 2, file); // reopened: created again
        assertThat(lines(rotated)).singleElement().asString().contains("\"id-1\"");
        assertThat(lines(file)).singleElement().asString().contains("\"id-2\"");
    }

    @Test
    void aFullDiskIsOneErrorLineWhileLinesAreDroppedAndCounted() throws IOException {
        try (LogCapture captured = new LogCapture(AccessLog.class)) {
            AccessLog log = log(AccessLog.CAPACITY, json(Path.of("/dev/full")));
            for (int i = 0; i < 5; i++) {
                log.log(entry(i));
            }
            await().atMost(BOUND).until(() -> log.dropped() == 5);
            for (int i = 5; i < 10; i++) {
                log.log(entry(i));
            }
            await().atMost(BOUND).until(() -> log.dropped() == 10);
            assertThat(captured.errorsAndStackTraces()).singleElement().asString()
                    .isEqualTo("ERROR dev.fulcrum.server.log.AccessLog: access log: cannot write /dev/full: "
                            + "No space left on device; its lines are dropped and counted "
                            + "(fulcrum_access_log_dropped_total) until it works again, retried every second and at SIGUSR1");

            Path file = tmp.resolve("access.log");
            log.configure(json(file));
            writeOne(log, 10, file); // configured: opened
            await().atMost(BOUND).until(() -> captured.messages().stream().anyMatch(m -> m.contains("again")));
            assertThat(captured.messages()).contains("access log: writing to " + file
                    + " again; 10 lines were dropped meanwhile");
            await().atMost(BOUND).until(() -> log.linesWritten() == 1); // counted after write(2) returns
        }
    }

    @Test
    void aDirectoryThatVanishedIsRetriedAndTheReopenAfterItIsBackWrites() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("logs"));
        Path file = dir.resolve("access.log");
        try (LogCapture captured = new LogCapture(AccessLog.class)) {
            AccessLog log = log(AccessLog.CAPACITY, json(file));
            writeOne(log, 1, file);
            Files.delete(file);
            Files.delete(dir);
            log.reopen();
            await().atMost(BOUND).until(() -> !captured.errorsAndStackTraces().isEmpty()); // reopen applied
            log.log(entry(2));
            await().atMost(BOUND).until(() -> log.dropped() == 1);
            assertThat(captured.errorsAndStackTraces()).singleElement().asString()
                    .contains("cannot write " + file + ": no such file or directory");

            Files.createDirectory(dir);
            log.reopen();
            writeOne(log, 3, file);
            assertThat(lines(file)).singleElement().asString().contains("\"id-3\"");
            assertThat(captured.errorsAndStackTraces()).hasSize(1);
        }
    }

    @Test
    void closeWritesWhatIsQueued() throws IOException {
        Path file = tmp.resolve("access.log");
        AccessLog log = log(AccessLog.CAPACITY, json(file));
        for (int i = 0; i < 5000; i++) {
            log.log(entry(i));
        }
        log.close(BOUND);
        assertThat(lines(file)).hasSize(5000);
        assertThat(log.enabled()).isFalse();
    }

    @Test
    void aReconfigureSwitchesFileAndFormatAndOffStopsMakingLines() throws IOException {
        Path first = tmp.resolve("a.log");
        Path second = tmp.resolve("b.log");
        AccessLog log = log(AccessLog.CAPACITY, json(first));
        writeOne(log, 1, first);
        log.configure(new AccessLogConfig(second, Format.COMBINED));
        writeOne(log, 2, second);
        assertThat(lines(second)).singleElement().asString().startsWith("127.0.0.1 - - [").endsWith(" id-2");

        log.configure(null);
        assertThat(log.enabled()).isFalse();
    }

    @Test
    void standardOutputGetsWholeBatchesAndAFailedOneIsAWriteError() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LogTarget stdout = new LogTarget.Stdout(new PrintStream(out, false, StandardCharsets.US_ASCII));
        stdout.write("a\nb\nc".getBytes(StandardCharsets.US_ASCII), 4);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("a\nb\n");

        LogTarget broken = new LogTarget.Stdout(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        }));
        assertThatThrownBy(() -> broken.write(new byte[] {'x', '\n'}, 2)).isInstanceOf(IOException.class);
    }

    @Test
    void theOffLogCannotBeTurnedOn() {
        assertThat(AccessLog.OFF.enabled()).isFalse();
        assertThatThrownBy(() -> AccessLog.OFF.configure(json(tmp.resolve("x"))))
                .isInstanceOf(IllegalStateException.class);
    }
}
