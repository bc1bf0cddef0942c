package dev.fulcrum.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The admin API's {@link ObjectMapper}, made on first use (the first API answer or registry event)
 * rather than while the admin API is set up: Jackson's own set-up costs ~15-20 ms of CPU, which
 * would otherwise sit between the start and the first proxied request (issue 13). Thread-safe:
 * made once under the class initialisation lock, and an ObjectMapper is safe to share once made.
 */
final class Json {

    private Json() {
    }

    private static final class Holder {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    static ObjectMapper mapper() {
        return Holder.MAPPER;
    }
}
