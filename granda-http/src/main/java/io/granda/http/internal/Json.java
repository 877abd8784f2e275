package io.granda.http.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one JSON mapper of the HTTP layer, strict on input: duplicate keys and trailing garbage are errors, because a
 * request that means two things must not silently mean one of them. Not API. Thread-safe.
 */
public final class Json {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }

    /** @return a new empty JSON object */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /**
     * @param body UTF-8 JSON
     * @return the parsed tree
     * @throws ApiException 400 {@code malformed_json} saying where and what is wrong
     */
    public static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("malformed_json", null, "request body is empty; a JSON object is expected");
        }
        try {
            JsonNode node = MAPPER.readTree(body);
            if (node == null || node.isMissingNode()) {
                throw ApiException.badRequest("malformed_json", null, "request body is empty; a JSON object is expected");
            }
            return node;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw ApiException.badRequest("malformed_json", null,
                    "request body is not valid JSON" + where + ": " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("malformed_json", null, "request body could not be read: " + e.getMessage());
        }
    }

    /** @return the tree as UTF-8 JSON bytes */
    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

}
