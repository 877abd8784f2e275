package io.granda.http.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes {@code application/x-www-form-urlencoded} bodies, as the original Granda page posts them. Not API.
 */
public final class Forms {

    private Forms() {
    }

    /**
     * @param body the raw body
     * @return field values by name; the first value wins when a field repeats, as Go's {@code PostFormValue} did
     * @throws ApiException 400 when the encoding is broken
     */
    public static Map<String, String> parse(byte[] body) {
        Map<String, String> fields = new LinkedHashMap<>();
        String text = new String(body, StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            return fields;
        }
        for (String pair : text.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                fields.putIfAbsent(key, value);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("malformed_form", null,
                        "form body is not valid application/x-www-form-urlencoded: " + e.getMessage());
            }
        }
        return fields;
    }
}
