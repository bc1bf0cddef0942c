package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig.Metric;
import dev.fulcrum.server.testing.CloseAfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A scraped server is not trusted with the balancer's memory or time: a {@code /metrics} answer
 * that never ends, or that trickles, is cut (the scraper hangs up) and gives no sample, while an
 * honest server next to it is read as usual.
 */
class MetricScraperHostileServerIT {

    private static final Duration BOUND = Duration.ofSeconds(15);
    private static final byte[] HEAD = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    /** Answers one scrape with the head above, then calls {@code body} until the client hangs up. */
    private static final class HostileServer implements AutoCloseable {
        interface Body {
            void write(OutputStream out) throws IOException, InterruptedException;
        }

        final ServerSocket socket = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        /** Completes with the bytes written when the scraper hangs up. */
        final CompletableFuture<Long> hungUp = new CompletableFuture<>();
        private final Thread thread;

        HostileServer(Body body) throws IOException {
            thread = Thread.ofVirtual().start(() -> {
                long written = 0;
                try (Socket client = socket.accept()) {
                    client.getInputStream().read(new byte[4096]); // the request head
                    OutputStream out = client.getOutputStream();
                    out.write(HEAD);
                    CountingStream counting = new CountingStream(out);
                    try {
                        while (true) {
                            body.write(counting);
                            out.flush();
                        }
                    } catch (IOException e) {
                        written = counting.count;
                    }
                    hungUp.complete(written);
                } catch (IOException | InterruptedException e) {
                    hungUp.completeExceptionally(e);
                }
            });
        }

        HostPort address() {
            return new HostPort("127.0.0.1", socket.getLocalPort());
        }

        @Override
        public void close() throws Exception {
            socket.close();
            thread.interrupt();
        }
    }

    private static final class CountingStream extends OutputStream {
        private final OutputStream out;
        long count;

        CountingStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }

    /** One chunk of the chunked body. */
    private static void chunk(OutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    private MetricScraper scraper() {
        return closer.add(new MetricScraper(new Metric("/metrics", "process_cpu_usage", 1, Duration.ofSeconds(1)),
                Duration.ofMinutes(1), Clock.systemUTC()));
    }

    private HostileServer honest() throws IOException {
        return closer.add(new HostileServer(out -> {
            chunk(out, "process_cpu_usage 0.25\n");
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(BOUND.toMillis()); // the body is whole; wait for the client to close
        }));
    }

    @Test
    void anEndlessMetricsPageIsCutAtTheSizeLimit() throws Exception {
        String lines = "process_cpu_usage 0.5\n".repeat(3000);
        HostileServer endless = closer.add(new HostileServer(out -> chunk(out, lines)));
        HostileServer honest = honest();
        MetricScraper scraper = scraper();

        scraper.scrape(List.of(endless.address(), honest.address()));

        long written = endless.hungUp.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        // what the scraper read is at most the limit; the rest sat in socket buffers when it hung up
        assertThat(written).isGreaterThan(MetricScraper.MAX_BODY_BYTES).isLessThan(8L * MetricScraper.MAX_BODY_BYTES);
        await().atMost(BOUND).until(() -> !scraper.samples().isEmpty());
        assertThat(scraper.samples()).singleElement()
                .satisfies(s -> assertThat(s.server()).isEqualTo(honest.address().toString()));
    }

    @Test
    void aTricklingMetricsPageIsCutAtTheScrapeTimeout() throws Exception {
        HostileServer trickling = closer.add(new HostileServer(out -> {
            chunk(out, "#");
            Thread.sleep(100);
        }));
        HostileServer honest = honest();
        MetricScraper scraper = scraper();
        long start = System.nanoTime();

        scraper.scrape(List.of(trickling.address(), honest.address()));

        trickling.hungUp.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        // the timeout is the 1 s interval; allow for a busy machine, but far from "never"
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        await().atMost(BOUND).until(() -> !scraper.samples().isEmpty());
        assertThat(scraper.samples()).extracting(s -> s.server()).containsExactly(honest.address().toString());
    }
}
