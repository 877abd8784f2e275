package io.granda.testkit;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One HTTP/1.1 response read by {@link HotSocketClient}: an immutable value (the body array is not copied).
 *
 * @param status  the status code
 * @param headers header names in lower case, each with its values in order
 * @param body    the body, decoded from its framing (Content-Length, chunked, or the end of the connection)
 */
public record HotHttpResponse(int status, Map<String, List<String>> headers, byte[] body) {

    public HotHttpResponse {
        headers = Map.copyOf(Objects.requireNonNull(headers, "headers"));
        Objects.requireNonNull(body, "body");
    }

    /**
     * @param name a header name, in any case
     * @return its first value, null when absent
     */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** @return the body decoded as UTF-8 */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
