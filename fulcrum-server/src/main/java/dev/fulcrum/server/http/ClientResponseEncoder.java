package dev.fulcrum.server.http;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * Encodes responses to the client. It must know when a response answers a HEAD request: such a
 * response declares a length or chunking but carries no body, and the encoder must not write a
 * chunk terminator. The frontend sets {@link #answeringHead} before writing each final response.
 * Confined to the client channel's event loop.
 */
final class ClientResponseEncoder extends HttpResponseEncoder {

    private boolean head;

    void answeringHead(boolean head) {
        this.head = head;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        boolean informational = msg.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        return (head && !informational) || super.isContentAlwaysEmpty(msg);
    }
}
