package dev.fulcrum.server.admin;

import dev.fulcrum.core.pool.Server;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.text.Escape;

import java.util.Iterator;

/**
 * The body of {@code POST /api/v1/pools/{pool}/servers}: {@code {"address":"127.0.0.1:9104","weight":1}},
 * weight 0..256, 1 when absent. Strict: an unknown field is refused (a typo such as {@code wieght}
 * must not silently give weight 1). The address passes {@link HostPort#parse}, the rule every way
 * in shares. Immutable.
 */
record NewServer(HostPort address, int weight) {

    /** @throws IllegalArgumentException with one sentence for the 400 answer */
    static NewServer parse(ObjectMapper json, String text) {
        JsonNode body;
        try {
            body = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the body is not valid JSON");
        }
        if (body == null || !body.isObject()) {
            throw new IllegalArgumentException(
                    "the body must be a JSON object like {\"address\":\"127.0.0.1:9104\",\"weight\":1}");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("address") && !name.equals("weight")) {
                throw new IllegalArgumentException("unknown field " + Escape.quote(name) + " (expected address and weight)");
            }
        }
        JsonNode address = body.get("address");
        if (address == null || !address.isTextual()) {
            throw new IllegalArgumentException("field \"address\" must be a string host:port");
        }
        HostPort hostPort = HostPort.parse(address.asText());
        JsonNode weight = body.get("weight");
        if (weight == null) {
            return new NewServer(hostPort, 1);
        }
        if (!weight.isIntegralNumber() || !weight.canConvertToInt() || weight.asInt() < 0 || weight.asInt() > Server.MAX_WEIGHT) {
            throw new IllegalArgumentException("field \"weight\" must be an integer from 0 to " + Server.MAX_WEIGHT);
        }
        return new NewServer(hostPort, weight.asInt());
    }
}
