package dev.fulcrum.server.net;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body for the JDK HTTP client that keeps at most {@code limit} bytes, so a server or
 * receiver that answers without end (or with a huge page) costs a bounded amount of memory. Used
 * where Fulcrum reads what another program answers: metric scrapes, webhook receivers.
 *
 * <p>Past the limit, {@link #failing} completes with an {@link IOException} and {@link #cut} with
 * the first {@code limit} bytes; both cancel the rest, which closes the connection. Each handler
 * makes a new subscriber per response; a subscriber is used by one response only.
 */
public final class BoundedBody {

    private BoundedBody() {
    }

    /** The body as UTF-8 text, or an {@link IOException} when it is longer than {@code limit} bytes. */
    public static HttpResponse.BodyHandler<String> failing(int limit) {
        return info -> new Subscriber(limit, true);
    }

    /** The first {@code limit} bytes of the body as UTF-8 text; the rest is not read. */
    public static HttpResponse.BodyHandler<String> cut(int limit) {
        return info -> new Subscriber(limit, false);
    }

    private static final class Subscriber implements HttpResponse.BodySubscriber<String> {
        private final int limit;
        private final boolean failOver;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        Subscriber(int limit, boolean failOver) {
            this.limit = limit;
            this.failOver = failOver;
        }

        @Override
        public CompletionStage<String> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer b : buffers) {
                int room = limit - bytes.size();
                if (b.remaining() > room) {
                    subscription.cancel();
                    if (failOver) {
                        result.completeExceptionally(new IOException("the answer is larger than " + limit + " bytes"));
                    } else {
                        byte[] part = new byte[room];
                        b.get(part); // the client's buffers may be direct or read-only: no array()
                        bytes.writeBytes(part);
                        result.complete(text());
                    }
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(text());
        }

        private String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
