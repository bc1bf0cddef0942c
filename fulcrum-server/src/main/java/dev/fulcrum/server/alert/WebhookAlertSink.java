package dev.fulcrum.server.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.core.text.Redact;
import dev.fulcrum.server.net.BoundedHttp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code type: webhook}: POSTs alerts to {@code url} as the Alertmanager v2 API takes them
 * ({@code POST /api/v2/alerts}, a JSON array; admin-api.md), so it can point straight at an
 * Alertmanager.
 *
 * <p>Delivery is off every caller's thread: {@link #send} only puts the alert on a bounded queue
 * (when full, the oldest queued alert is dropped with a warning) and returns. One sender thread
 * ({@code fulcrum-alert-webhook}) takes everything queued and POSTs it as one array, each POST
 * bounded by {@code timeout}. On a failure (no connection, timeout, 5xx, 429) it retries with
 * exponential backoff ({@code firstBackoff}, doubling up to {@code maxBackoff}), folding alerts
 * queued meanwhile into the next attempt — the latest state of an alert (same labels) replaces
 * an older one — and gives an alert up with a warning {@code giveUpAfter} (5 minutes) after it
 * was queued. Another 4xx means the receiver refuses the payload: the batch is dropped with a
 * warning rather than retried. A dead or slow receiver therefore costs one blocked sender thread
 * and nothing else.
 *
 * <p>Thread-safe.
 */
public final class WebhookAlertSink implements AlertSink {

    private static final Logger log = LoggerFactory.getLogger(WebhookAlertSink.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    public static final int DEFAULT_CAPACITY = 1024;
    public static final Duration DEFAULT_FIRST_BACKOFF = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);
    public static final Duration DEFAULT_GIVE_UP = Duration.ofMinutes(5);

    /** Where to POST, without userinfo: credentials go in the Authorization header, not the URL. */
    private final URI url;
    /** The URL as logs show it: userinfo password hidden. */
    private final String shown;
    /** {@code Basic ...} from the configured URL's userinfo, or null when it has none. */
    private final String authorization;
    /**
     * The most of a receiver's answer read (only its first line is logged, on a refusal): a
     * receiver that answers endlessly or slowly cannot hold the sender past {@code timeout}.
     */
    private static final int MAX_ANSWER_BYTES = 64 * 1024;

    private final Duration timeout;
    private final String generatorUrl;
    private final int capacity;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final Duration giveUpAfter;
    private final Clock clock;
    private final BlockingQueue<Queued> queue;
    private final HttpClient client;
    private final Thread sender;
    private volatile boolean closed;
    /** Alerts dropped from the full queue since the sender last reported it. */
    private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
    /** Whether the last POST failed; later failures in a row log at debug. Sender thread only. */
    private boolean failing;

    private record Queued(Alert alert, Instant queuedAt) {
    }

    /** With the defaults: 1024 queued alerts, backoff 1s doubling to 30s, give up after 5 minutes. */
    public WebhookAlertSink(URI url, Duration timeout, String generatorUrl) {
        this(url, timeout, generatorUrl, DEFAULT_CAPACITY, DEFAULT_FIRST_BACKOFF, DEFAULT_MAX_BACKOFF,
                DEFAULT_GIVE_UP, Clock.systemUTC());
    }

    public WebhookAlertSink(URI url, Duration timeout, String generatorUrl, int capacity, Duration firstBackoff,
                            Duration maxBackoff, Duration giveUpAfter, Clock clock) {
        this.url = withoutUserInfo(url);
        this.shown = Redact.urls(url.toString());
        this.authorization = basicAuthorization(url);
        this.timeout = timeout;
        this.generatorUrl = generatorUrl;
        this.capacity = capacity;
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.giveUpAfter = giveUpAfter;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .build();
        this.sender = Thread.ofPlatform().name("fulcrum-alert-webhook").daemon(true).start(this::run);
    }

    @Override
    public void send(Alert alert) {
        if (closed) {
            return;
        }
        Queued q = new Queued(alert, clock.instant());
        while (!queue.offer(q)) {
            if (queue.poll() != null) {
                // counted here, logged by the sender: the caller's thread never does I/O
                dropped.incrementAndGet();
            }
        }
    }

    /** The request body for some alerts: the Alertmanager v2 JSON array. */
    static byte[] payload(Collection<Alert> alerts, String generatorUrl) {
        ArrayNode array = JSON.createArrayNode();
        for (Alert alert : alerts) {
            ObjectNode node = array.addObject();
            ObjectNode labels = node.putObject("labels");
            alert.labels().forEach(labels::put);
            ObjectNode annotations = node.putObject("annotations");
            alert.annotations().forEach(annotations::put);
            node.put("startsAt", TIME.format(alert.startsAt()));
            if (alert.endsAt() != null) {
                node.put("endsAt", TIME.format(alert.endsAt()));
            }
            node.put("generatorURL", generatorUrl);
        }
        try {
            return JSON.writeValueAsBytes(array);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write alerts as JSON", e);
        }
    }

    private void run() {
        // Alerts not delivered yet, by identity (their labels); the newest state wins.
        Map<Map<String, String>, Queued> pending = new LinkedHashMap<>();
        Duration backoff = firstBackoff;
        while (!closed) {
            try {
                if (pending.isEmpty()) {
                    Queued first = queue.poll(1, TimeUnit.SECONDS);
                    if (first == null) {
                        continue;
                    }
                    pending.put(first.alert().labels(), first);
                }
                long lost = dropped.getAndSet(0);
                if (lost > 0) {
                    log.warn("alert queue for {} was full ({}); dropped the {} oldest alert(s)", shown, capacity, lost);
                }
                List<Queued> more = new ArrayList<>();
                queue.drainTo(more);
                for (Queued q : more) {
                    pending.remove(q.alert().labels()); // re-insert: keep the order of the latest states
                    pending.put(q.alert().labels(), q);
                }
                giveUpOld(pending);
                if (pending.isEmpty()) {
                    continue;
                }
                Result result = post(pending.values().stream().map(Queued::alert).toList());
                switch (result) {
                    case DELIVERED, REFUSED -> {
                        if (failing) {
                            log.info("alert webhook {} is answering again", shown);
                        }
                        pending.clear();
                        backoff = firstBackoff;
                        failing = false;
                    }
                    case RETRY -> {
                        failing = true;
                        Thread.sleep(backoff.toMillis());
                        backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
                    }
                }
            } catch (InterruptedException e) {
                return; // closing
            } catch (RuntimeException e) {
                log.warn("alert webhook {}: {}", shown, e.toString());
            }
        }
    }

    private void giveUpOld(Map<Map<String, String>, Queued> pending) {
        Instant now = clock.instant();
        for (Iterator<Queued> it = pending.values().iterator(); it.hasNext(); ) {
            Queued q = it.next();
            if (!now.isBefore(q.queuedAt().plus(giveUpAfter))) {
                it.remove();
                log.warn("gave up delivering to {} after {}: {}", shown, giveUpAfter, LogAlertSink.line(q.alert()));
            }
        }
        while (pending.size() > capacity) {
            Iterator<Queued> it = pending.values().iterator();
            Queued q = it.next();
            it.remove();
            log.warn("alert backlog for {} is full ({}); dropped {}", shown, capacity, LogAlertSink.line(q.alert()));
        }
    }

    private enum Result { DELIVERED, REFUSED, RETRY }

    private Result post(List<Alert> alerts) throws InterruptedException {
        HttpRequest.Builder builder = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload(alerts, generatorUrl)));
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        HttpRequest request = builder.build();
        try {
            HttpResponse<String> response = await(BoundedHttp.send(client, request, MAX_ANSWER_BYTES, timeout));
            int status = response.statusCode();
            if (status / 100 == 2) {
                return Result.DELIVERED;
            }
            if (status / 100 == 4 && status != 408 && status != 429) {
                log.warn("alert webhook {} refused {} alert(s) with status {}: {}", shown, alerts.size(), status,
                        oneLine(response.body()));
                return Result.REFUSED;
            }
            retryLog("alert webhook {} answered {}; will retry with backoff", shown, status);
            return Result.RETRY;
        } catch (java.io.IOException e) {
            retryLog("alert webhook {} unreachable ({}); will retry with backoff", shown,
                    e.getMessage() == null ? e.getClass().getSimpleName() : Redact.urls(e.getMessage()));
            return Result.RETRY;
        }
    }

    /** {@code url} without its userinfo (the JDK client would not send it anyway). */
    private static URI withoutUserInfo(URI url) {
        if (url.getRawUserInfo() == null) {
            return url;
        }
        String authority = url.getRawAuthority();
        String rest = url.toString().substring(url.toString().indexOf(authority) + authority.length());
        return URI.create(url.getScheme() + "://" + authority.substring(authority.lastIndexOf('@') + 1) + rest);
    }

    /** HTTP Basic credentials from {@code user:password@} in the URL (percent-decoded), or null. */
    private static String basicAuthorization(URI url) {
        String userInfo = url.getUserInfo();
        if (userInfo == null) {
            return null;
        }
        return "Basic " + java.util.Base64.getEncoder().encodeToString(userInfo.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "webhook " + shown;
    }

    /** The sender thread waits for the bounded exchange; its failure comes out as the IOException it is. */
    private static HttpResponse<String> await(java.util.concurrent.CompletableFuture<HttpResponse<String>> exchange)
            throws java.io.IOException, InterruptedException {
        try {
            return exchange.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof java.io.IOException io) {
                throw io;
            }
            throw new java.io.IOException(e.getCause());
        } catch (InterruptedException e) {
            exchange.cancel(true);
            throw e;
        }
    }

    private void retryLog(String format, Object a, Object b) {
        if (failing) {
            log.debug(format, a, b);
        } else {
            log.warn(format, a, b);
        }
    }

    private static String oneLine(String body) {
        String s = body == null ? "" : body.replaceAll("\\s+", " ").trim();
        return Escape.text(s.length() > 200 ? s.substring(0, 200) + "..." : s); // the receiver's text
    }

    @Override
    public void close() {
        closed = true;
        sender.interrupt();
        client.shutdownNow();
    }
}
