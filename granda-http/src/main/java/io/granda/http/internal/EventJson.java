package io.granda.http.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncPolicy;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;

/**
 * The JSON shapes of asynchronous invocations (events) and async policies. Not API.
 */
public final class EventJson {

    private EventJson() {
    }

    /** @return the answer to an accepted event: its id, status and where to look */
    public static ObjectNode accepted(Accepted a) {
        ObjectNode n = Json.object();
        n.put("invocationId", a.event().id());
        n.put("function", a.event().functionName());
        n.put("status", a.event().status().apiName());
        n.put("duplicate", a.duplicate());
        n.put("statusUrl", "/invocations/" + a.event().id());
        return n;
    }

    /** @return an event as {@code GET /invocations/{id}} shows it */
    public static ObjectNode render(AsyncEvent e) {
        ObjectNode n = Json.object();
        n.put("invocationId", e.id());
        n.put("async", true);
        n.put("function", e.functionName());
        n.put("status", e.status().apiName());
        n.put("source", e.source());
        n.put("acceptedAt", e.acceptedAt().toString());
        n.put("attempts", e.attempts());
        n.put("failedAttempts", e.failedAttempts());
        n.put("interruptedAttempts", e.interruptedAttempts());
        instant(n, "nextAttemptAt", e.nextAttemptAt());
        instant(n, "startedAt", e.startedAt());
        instant(n, "finishedAt", e.finishedAt());
        n.put("lastAttemptInvocationId", e.lastInvocationId());
        n.put("idempotencyKey", e.idempotencyKey());
        n.put("callbackUrl", e.callbackUrl());
        n.put("callbackStatus", e.callbackStatus());
        n.put("error", e.error());
        if (e.result() == null) {
            n.putNull("result");
        } else {
            AsyncEvent.Result r = e.result();
            ObjectNode result = n.putObject("result");
            result.put("outcome", r.outcome().name().toLowerCase(Locale.ROOT));
            result.put("status", r.httpStatus());
            result.put("contentType", r.contentType());
            String text = utf8(r.body());
            if (text != null) {
                result.put("body", text);
            } else {
                result.put("bodyBase64", Base64.getEncoder().encodeToString(r.body()));
            }
            result.put("truncated", r.truncated());
            result.put("logTail", r.logTail());
        }
        return n;
    }

    /** @return the bytes a callback POSTs: the event as {@link #render} shows it */
    public static byte[] callbackBody(AsyncEvent e) {
        return Json.bytes(render(e));
    }

    /** @return a policy as {@code GET /functions/{name}/async-config} shows it */
    public static ObjectNode render(AsyncPolicy p) {
        ObjectNode n = Json.object();
        n.put("maxAttempts", p.maxAttempts());
        n.put("initialBackoffMs", p.initialBackoff().toMillis());
        n.put("maxBackoffMs", p.maxBackoff().toMillis());
        n.put("maxEventAgeSeconds", p.maxEventAge().toSeconds());
        n.put("concurrency", p.concurrency());
        n.put("schedule", p.schedule());
        n.put("callbackUrl", p.callbackUrl());
        return n;
    }

    /**
     * Reads a policy; a field left out keeps its value in {@code base}.
     *
     * @throws ApiException naming the field when one has the wrong type or an unknown field is given
     */
    public static AsyncPolicy parsePolicy(JsonNode body, AsyncPolicy base) {
        if (!body.isObject()) {
            throw ApiException.badRequest("invalid_request", null, "the body must be a JSON object");
        }
        body.fieldNames().forEachRemaining(f -> {
            switch (f) {
                case "maxAttempts", "initialBackoffMs", "maxBackoffMs", "maxEventAgeSeconds", "concurrency",
                     "schedule", "callbackUrl" -> { }
                default -> throw ApiException.badRequest("invalid_request", f, "unknown field '" + f
                        + "'; known: maxAttempts, initialBackoffMs, maxBackoffMs, maxEventAgeSeconds, concurrency,"
                        + " schedule, callbackUrl");
            }
        });
        return new AsyncPolicy(
                (int) longField(body, "maxAttempts", base.maxAttempts()),
                Duration.ofMillis(longField(body, "initialBackoffMs", base.initialBackoff().toMillis())),
                Duration.ofMillis(longField(body, "maxBackoffMs", base.maxBackoff().toMillis())),
                Duration.ofSeconds(longField(body, "maxEventAgeSeconds", base.maxEventAge().toSeconds())),
                (int) longField(body, "concurrency", base.concurrency()),
                textField(body, "schedule", base.schedule()),
                textField(body, "callbackUrl", base.callbackUrl()));
    }

    private static long longField(JsonNode body, String field, long dflt) {
        JsonNode v = body.get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.badRequest("invalid_request", field, field + " must be a whole number");
        }
        return v.asLong();
    }

    private static String textField(JsonNode body, String field, String dflt) {
        JsonNode v = body.get(field);
        if (v == null) {
            return dflt;
        }
        if (v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("invalid_request", field, field + " must be a string or null");
        }
        return v.asText();
    }

    private static void instant(ObjectNode n, String field, Instant t) {
        if (t == null) {
            n.putNull(field);
        } else {
            n.put(field, t.toString());
        }
    }

    /** @return the bytes as text when they are valid UTF-8, else null */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
