package io.granda.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --auth-failure-limit: its default and bounds, and the running server answering 429 past it. */
class ServerConfigAuthFailureLimitTest {

    @TempDir
    Path dataDir;

    @Test
    void defaultsAndBounds() {
        assertEquals(20, ServerConfig.from(new String[0], Map.of()).authFailureLimit());
        assertEquals(0, ServerConfig.from(new String[] {"--auth-failure-limit", "0"}, Map.of()).authFailureLimit());
        assertEquals(7, ServerConfig.from(new String[0], Map.of("GRANDA_AUTH_FAILURE_LIMIT", "7")).authFailureLimit());
        for (String bad : new String[] {"-1", "1001", "many"}) {
            ServerConfig.InvalidConfigException e = assertThrows(ServerConfig.InvalidConfigException.class,
                    () -> ServerConfig.from(new String[] {"--auth-failure-limit", bad}, Map.of()));
            assertTrue(e.getMessage().contains("auth-failure-limit"), e.getMessage());
        }
        assertTrue(ServerConfig.from(new String[0], Map.of()).toString().contains("authFailureLimit=20"));
    }

    @Test
    void theRunningServerRefusesAnAddressPastTheLimit() throws Exception {
        String owner = "test-authlimit-" + UUID.randomUUID().toString().substring(0, 8);
        try (GrandaServer server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key",
                ServerHarness.ADMIN_KEY, "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir.toString(),
                "--owner-id", owner, "--auth-failure-limit", "2"}, Map.of()))) {
            HttpClient client = HttpClient.newHttpClient();
            URI functions = URI.create("http://127.0.0.1:" + server.port() + "/functions");
            HttpRequest wrong = HttpRequest.newBuilder(functions).header("Authorization", "Bearer gk_nobody1_"
                    + "0".repeat(32)).build();
            HttpRequest right = HttpRequest.newBuilder(functions)
                    .header("Authorization", "Bearer " + ServerHarness.ADMIN_KEY).build();
            assertEquals(200, client.send(right, HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(401, client.send(wrong, HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(401, client.send(wrong, HttpResponse.BodyHandlers.ofString()).statusCode());

            HttpResponse<String> refused = client.send(right, HttpResponse.BodyHandlers.ofString());

            assertEquals(429, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("\"error\":\"too_many_failed_authentications\""), refused.body());
            long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
        }
    }
}
