package dev.fulcrum.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.RegistryEvent;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * {@code GET /api/v1/events}: registry events as Server-Sent Events, each
 * {@code event: TYPE\ndata: {json}\n\n}.
 *
 * <p>A new subscriber first gets the last {@link #REPLAY} events (so a dashboard opened now shows
 * what just happened), then live ones; the replay and the live feed neither overlap nor miss an
 * event. A comment line {@code : keep-alive} goes to every subscriber every 15 s so proxies and
 * browsers keep the stream open.
 *
 * <p>Each subscriber's buffer is bounded by its channel's write-buffer high-water mark: an event
 * for a subscriber whose channel is not writable (a client that does not read) closes that
 * subscriber instead of queueing, so a slow client never slows the registry or other subscribers.
 * {@link #publish} never blocks: it only hands bytes to the channels' event loops.
 *
 * <p>Thread-safe.
 */
final class EventStream {

    static final int REPLAY = 50;
    private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    private final Object lock = new Object();
    private final Deque<byte[]> recent = new ArrayDeque<>(REPLAY);
    private final List<Channel> subscribers = new ArrayList<>();

    EventStream() {
    }

    /** Called by the registry on the control thread; every event goes to the stream. */
    void publish(PoolEvent typed) {
        RegistryEvent event = typed.wire();
        byte[] frame;
        try {
            frame = ("event: " + event.type() + "\ndata: " + Json.mapper().writeValueAsString(Views.event(event)) + "\n\n")
                    .getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            return; // records of strings always serialize
        }
        synchronized (lock) {
            if (recent.size() == REPLAY) {
                recent.removeFirst();
            }
            recent.addLast(frame);
            sendToAll(frame);
        }
    }

    /** Sends the response head and the replay on {@code channel}, then keeps it subscribed until it closes. */
    void subscribe(Channel channel) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        synchronized (lock) {
            channel.write(head);
            for (byte[] frame : recent) {
                channel.write(content(frame));
            }
            channel.writeAndFlush(content(KEEP_ALIVE));
            subscribers.add(channel);
        }
        channel.closeFuture().addListener(f -> {
            synchronized (lock) {
                subscribers.remove(channel);
            }
        });
    }

    /** The periodic keep-alive comment. */
    void keepAlive() {
        synchronized (lock) {
            sendToAll(KEEP_ALIVE);
        }
    }

    int subscribers() {
        synchronized (lock) {
            return subscribers.size();
        }
    }

    /** Closes every stream (the admin server stops). */
    void closeAll() {
        synchronized (lock) {
            for (Channel ch : subscribers) {
                ch.close();
            }
            subscribers.clear();
        }
    }

    private void sendToAll(byte[] frame) {
        for (Channel ch : List.copyOf(subscribers)) {
            if (!ch.isWritable()) {
                // its buffer is full: drop this reader rather than hold events for it
                subscribers.remove(ch);
                ch.close();
                continue;
            }
            ch.writeAndFlush(content(frame)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    private static DefaultHttpContent content(byte[] frame) {
        return new DefaultHttpContent(Unpooled.wrappedBuffer(frame));
    }
}
