package io.granda.http;

import io.granda.core.Granda;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Throttling of failed authentication over HTTP on loopback: after the limit of failed key checks from one address
 * within the window, that address's requests with a key get 429 until the window lets them through; other addresses
 * and keyless requests are unaffected. The server listens on 127.0.0.1; the second client connects from 127.0.0.2,
 * another loopback address, so the two are told apart as two clients on a network would be. A fake clock moves the
 * window: no sleeping.
 */
class AuthFailureThrottleTest {

    private static final int LIMIT = 5;
    private final FakeClock clock = new FakeClock(Instant.parse("2026-07-01T12:00:00Z"));
    private HttpTestServer http;
    private HttpClient fromOne;
    private HttpClient fromTwo;
    private String validKey;

    @BeforeEach
    void start() throws Exception {
        http = new HttpTestServer(Granda.builder().backend(new FakeBackend()).clock(clock).authFailureLimit(LIMIT)
                .build(), GrandaHttpConfig.DEFAULTS);
        validKey = http.adminKey;
        fromOne = HttpClient.newBuilder().localAddress(InetAddress.getByName("127.0.0.1")).build();
        fromTwo = HttpClient.newBuilder().localAddress(InetAddress.getByName("127.0.0.2")).build();
    }

    @AfterEach
    void stop() {
        fromOne.close();
        fromTwo.close();
        http.close();
    }

    private HttpResponse<String> get(HttpClient client, String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(http.base() + path));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void assertThrottled(HttpResponse<String> r, long retryAfter) throws Exception {
        assertEquals(429, r.statusCode(), r.body());
        var body = io.granda.http.internal.Json.MAPPER.readTree(r.body());
        assertEquals("too_many_failed_authentications", body.get("error").asText());
        assertTrue(body.get("message").asText().contains("retry in " + retryAfter + " s"), r.body());
        assertEquals(String.valueOf(retryAfter), r.headers().firstValue("Retry-After").orElse(null));
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    }

    @Test
    void afterTheLimitOfFailuresAnAddressIsRefusedUntilTheWindowLetsItThrough() throws Exception {
        String privateUrl = "/f/" + http.granda.deploy(io.granda.core.FunctionSpec.builder("secretive")
                .image("granda/hello").isPrivate(true).build()).routeId();
        // Requests without a key are not failed key checks: they count for nothing.
        for (int i = 0; i < 3 * LIMIT; i++) {
            assertEquals(401, get(fromOne, "/functions", null).statusCode());
        }
        String[] wrong = {"not-a-key", "gk_unknown1_" + "0".repeat(32), validKey.substring(0, validKey.length() - 1)
                + (validKey.endsWith("a") ? "b" : "a"), "gk_x_y", ""};
        for (int i = 0; i < LIMIT; i++) {
            assertEquals(401, get(fromOne, "/functions", wrong[i % wrong.length]).statusCode(), "failure " + (i + 1));
        }
        clock.advance(Duration.ofMillis(10_500));

        assertThrottled(get(fromOne, "/functions", validKey), 50);
        assertThrottled(get(fromOne, "/whoami", "gk_unknown1_" + "0".repeat(32)), 50);
        assertThrottled(get(fromOne, privateUrl, validKey), 50);
        assertThrottled(get(fromOne, "/funcInvocationCount?funcname=secretive", validKey), 50);
        assertEquals(401, get(fromOne, "/functions", null).statusCode(), "without a key: 401 as ever");
        assertEquals(200, get(fromOne, "/health", null).statusCode(), "what needs no key is served");

        assertEquals(200, get(fromTwo, "/functions", validKey).statusCode(), "another address is unaffected");
        assertEquals(401, get(fromTwo, "/functions", "not-a-key").statusCode(), "and has its own count");

        clock.advance(Duration.ofMillis(49_499));
        assertThrottled(get(fromOne, "/functions", validKey), 1);
        clock.advance(Duration.ofMillis(1));
        assertEquals(200, get(fromOne, "/functions", validKey).statusCode(), "the window has let it through");
        assertEquals(200, get(fromOne, privateUrl, validKey).statusCode());
    }

    @Test
    void aValidKeyDoesNotWipeTheSlate() throws Exception {
        for (int i = 0; i < LIMIT - 1; i++) {
            assertEquals(401, get(fromOne, "/functions", "not-a-key").statusCode());
        }
        assertEquals(200, get(fromOne, "/functions", validKey).statusCode(), "under the limit");
        assertEquals(401, get(fromOne, "/functions", "not-a-key").statusCode());

        assertThrottled(get(fromOne, "/functions", validKey), 60);
    }
}
