package dev.fulcrum.server.http.message;

/**
 * A message a decoder could not frame, as the last thing it emits for a connection (it discards
 * everything after: a request hidden behind an ambiguous one is never emitted). For a request,
 * {@code status} is the answer Fulcrum gives (400, 405, 413, 431) and {@code reason} the one-line
 * text naming the rule broken; for a response, {@code status} is 502 and {@code reason} says what
 * the server did ("sent an invalid response (...)", "broke off the response (...)").
 *
 * @param status an HTTP status code for Fulcrum's own answer
 * @param reason one line, no CR/LF, safe to show a client
 */
public record MessageFailure(int status, String reason) {
}
