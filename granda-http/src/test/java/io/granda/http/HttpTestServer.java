package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.core.GrandaOptions;
import io.granda.core.access.Role;
import io.granda.core.access.Tenant;
import io.granda.http.internal.Json;
import io.helidon.webserver.WebServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * A Granda behind a real Helidon server on a free loopback port, and a small client for tests. When the config
 * requires API keys, the server gets an admin key that every request of the client's helpers carries (as
 * {@code Authorization: Bearer}); {@link #as(String)} gives a client that sends another key, or none.
 */
final class HttpTestServer implements AutoCloseable {

    final Granda granda;
    final io.granda.core.async.GrandaEvents events;
    final WebServer server;
    final HttpClient client = HttpClient.newHttpClient();
    /** The admin key requests carry, null when keys are not required. */
    final String adminKey;
    /** The key this client sends, null for none. */
    private final String key;
    private final boolean owner;

    HttpTestServer(Granda granda, GrandaHttpConfig config) {
        this(granda, null, config);
    }

    /** A server with asynchronous invocations when {@code events} is given; {@link #close()} closes it first. */
    HttpTestServer(Granda granda, io.granda.core.async.GrandaEvents events, GrandaHttpConfig config) {
        this.granda = granda;
        this.events = events;
        this.adminKey = config.requireApiKey()
                ? granda.apiKeys().issue(Tenant.DEFAULT, Role.ADMIN, "tests").token() : null;
        this.key = adminKey;
        this.owner = true;
        this.server = WebServer.builder()
                .host("127.0.0.1")
                .port(0)
                .shutdownHook(false)
                .maxPayloadSize(GrandaOptions.DEFAULT_MAX_PAYLOAD_BYTES + 1024L * 1024)
                .directHandlers(GrandaHttp.directHandlers())
                .addProtocol(GrandaHttp.http1(GrandaHttp.DEFAULT_MAX_REQUEST_LINE_BYTES,
                        GrandaHttp.DEFAULT_MAX_HEADER_BYTES))
                .routing(r -> GrandaHttp.notFoundFallback(GrandaHttp.mount(r, granda, events, config)))
                .build()
                .start();
    }

    private HttpTestServer(HttpTestServer of, String key) {
        this.granda = of.granda;
        this.events = of.events;
        this.server = of.server;
        this.adminKey = of.adminKey;
        this.key = key;
        this.owner = false;
    }

    /**
     * @param key the key to send ({@code null} for none)
     * @return a client of the same server that sends that key; closing it closes nothing
     */
    HttpTestServer as(String key) {
        return new HttpTestServer(this, key);
    }

    /** @return a new request to a path, carrying this client's key */
    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b;
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    Reply send(String method, String path, String contentType, byte[] body) {
        HttpRequest.Builder b = request(path)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return send(b.build());
    }

    Reply send(HttpRequest request) {
        try {
            HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new Reply(r.statusCode(), r.body(), r);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Reply json(String method, String path, String json) {
        return send(method, path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    Reply get(String path) {
        return send("GET", path, null, null);
    }

    Reply form(String path, String urlEncoded) {
        return send("POST", path, "application/x-www-form-urlencoded; charset=UTF-8",
                urlEncoded.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        if (owner) {
            if (events != null) {
                events.close();
            }
            server.stop();
            granda.close();
        }
    }

    record Reply(int status, byte[] body, HttpResponse<byte[]> raw) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + text(), e);
            }
        }

        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }
    }
}
