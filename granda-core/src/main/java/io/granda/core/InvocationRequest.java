package io.granda.core;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A call to a function: an immutable value (the body array is not copied on access; callers must not change it).
 *
 * @param method  HTTP method the caller used, {@code POST} for calls made through the Java API
 * @param path    path below the function's URL, {@code "/"} when none
 * @param query   raw query string without {@code '?'}, empty when none
 * @param headers request headers, names compared case-insensitively
 * @param body    the payload
 */
public record InvocationRequest(
        String method,
        String path,
        String query,
        Map<String, List<String>> headers,
        byte[] body) {

    public InvocationRequest {
        method = method == null || method.isEmpty() ? "POST" : method;
        path = path == null || path.isEmpty() ? "/" : path;
        query = query == null ? "" : query;
        TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (headers != null) {
            // Names that differ only in case are one header: keep all their values rather than the last name's.
            headers.forEach((k, v) -> copy.merge(k, List.copyOf(v),
                    (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList()));
        }
        headers = java.util.Collections.unmodifiableMap(copy);
        body = Objects.requireNonNullElse(body, new byte[0]);
    }

    /** @return a POST with the given payload and nothing else */
    public static InvocationRequest of(byte[] body) {
        return new InvocationRequest("POST", "/", "", Map.of(), body);
    }

    /** @return a POST with the given UTF-8 payload and nothing else */
    public static InvocationRequest of(String body) {
        return of(body.getBytes(StandardCharsets.UTF_8));
    }

    /** @return the body decoded as UTF-8 */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
