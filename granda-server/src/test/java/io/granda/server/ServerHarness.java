package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A small HTTP client for a running Granda server. Its requests carry an API key: {@link #ADMIN_KEY}, which the
 * servers of the tests are configured with ({@code --admin-key}), unless another is given.
 */
final class ServerHarness {

    /** The admin key test servers are started with: {@code "--admin-key", ServerHarness.ADMIN_KEY}. */
    static final String ADMIN_KEY = "gk_testadmin_" + "0123456789abcdef".repeat(4);

    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    /** Sent as {@code Authorization: Bearer}; null for none. */
    private final String key;

    ServerHarness(int port) {
        this(port, ADMIN_KEY);
    }

    /** @param key the API key to send, null for none */
    ServerHarness(int port, String key) {
        this.base = "http://127.0.0.1:" + port;
        this.key = key;
    }

    /** @return the key requests carry, null for none */
    String key() {
        return key;
    }

    /** @return a new request to a path or URL, carrying this harness's key */
    HttpRequest.Builder request(String pathOrUrl) {
        String url = pathOrUrl.startsWith("http") ? pathOrUrl : base + pathOrUrl;
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b;
    }

    String base() {
        return base;
    }

    Reply send(String method, String pathOrUrl, String contentType, String body) {
        HttpRequest.Builder b = request(pathOrUrl)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        try {
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body(), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Reply createFunction(String json) {
        return send("POST", "/functions", "application/json", json);
    }

    Reply call(String url, String payload) {
        return send("POST", url, "text/plain", payload);
    }

    Reply get(String path) {
        return send("GET", path, null, null);
    }

    record Reply(int status, String body, HttpResponse<String> raw) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + body, e);
            }
        }

        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }
    }
}
