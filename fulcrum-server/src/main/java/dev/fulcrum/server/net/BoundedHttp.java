package dev.fulcrum.server.net;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * One request to a peer we do not control (a server's {@code /metrics}, an alert webhook), with
 * the answer bounded in size and time. {@link HttpRequest#timeout} alone ends at the response head,
 * and {@code BodyHandlers.ofString()} keeps every byte: a server that sends a head and then an
 * endless or trickling body would hold the request forever or fill the heap. Here the body is cut
 * at {@code maxBodyBytes} and the whole exchange at {@code deadline}; either hangs up the connection
 * and fails the future with an {@link IOException} whose message says which.
 *
 * <p>Stateless and thread-safe; the future completes on the HTTP client's or the timer's threads.
 */
public final class BoundedHttp {

    private BoundedHttp() {
    }

    /**
     * Sends {@code request}; the future gets the response with its body as UTF-8 text, or fails with
     * an {@link IOException} (refused, reset, body too large, {@link HttpTimeoutException} past
     * {@code deadline}).
     */
    public static CompletableFuture<HttpResponse<String>> send(HttpClient http, HttpRequest request,
                                                               int maxBodyBytes, Duration deadline) {
        LimitedBody[] body = new LimitedBody[1];
        CompletableFuture<HttpResponse<String>> exchange = http.sendAsync(request, info -> {
            body[0] = new LimitedBody(maxBodyBytes);
            return body[0];
        });
        CompletableFuture<HttpResponse<String>> result = new CompletableFuture<>();
        HttpTimeoutException late = new HttpTimeoutException("no whole answer within " + deadline.toMillis() + " ms");
        CompletableFuture.delayedExecutor(deadline.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            if (!exchange.isDone()) {
                LimitedBody b = body[0];
                if (b != null) {
                    b.abort(late); // hangs up the connection while the body is streaming
                }
                exchange.cancel(true); // and while waiting for the head
                result.completeExceptionally(late);
            }
        });
        exchange.whenComplete((response, error) -> {
            if (error == null) {
                result.complete(response);
            } else {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                result.completeExceptionally(cause instanceof CancellationException ? late : cause);
            }
        });
        return result;
    }

    /**
     * Collects the body up to a limit; past it, cancels the subscription (the client closes the
     * connection) and fails. Called by the HTTP client one signal at a time; {@link #abort} may come
     * from the timer thread, hence the volatile subscription and the idempotent future.
     */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<String> {
        private final int limit;
        private final CompletableFuture<String> body = new CompletableFuture<>();
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private volatile Flow.Subscription subscription;

        LimitedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<String> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            if (body.isDone()) {
                return; // aborted: the client stops the stream after the cancel
            }
            for (ByteBuffer buffer : buffers) {
                if (bytes.size() + buffer.remaining() > limit) {
                    abort(new IOException("answer larger than " + limit + " bytes"));
                    return;
                }
                byte[] chunk = new byte[buffer.remaining()];
                buffer.get(chunk);
                bytes.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable error) {
            body.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            body.complete(bytes.toString(StandardCharsets.UTF_8));
        }

        void abort(IOException why) {
            if (body.completeExceptionally(why)) {
                Flow.Subscription s = subscription;
                if (s != null) {
                    s.cancel();
                }
            }
        }
    }
}
