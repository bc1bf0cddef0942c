/**
 * HTTP messages as bytes with an index, the representation the data path works on (STYLE.md
 * principle 15, after HAProxy's HTX): a decoder emits, per message, one {@link
 * dev.fulcrum.server.http.message.MessageHead}, zero or more {@code ByteBuf} body parts (framing
 * removed) and one {@link dev.fulcrum.server.http.message.MessageEnd}; or, instead of the rest of
 * a connection, one {@link dev.fulcrum.server.http.message.MessageFailure}. Rules read the head's
 * index, rewrites splice it, writers re-frame the body for the next hop. Nothing here is tied to
 * HTTP/1.1's wire form except the writers, so an HTTP/2 codec produces and consumes the same types.
 */
package dev.fulcrum.server.http.message;
