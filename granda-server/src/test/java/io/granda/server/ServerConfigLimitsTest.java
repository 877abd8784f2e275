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

/** The request-line and header limits are configurable, checked at start-up, and enforced by the running server. */
class ServerConfigLimitsTest {

    @TempDir
    Path dataDir;

    @Test
    void defaultsAndFlags() {
        ServerConfig d = ServerConfig.from(new String[0], Map.of());
        assertEquals(8192, d.maxRequestLineBytes());
        assertEquals(16384, d.maxHeaderBytes());
        ServerConfig c = ServerConfig.from(new String[] {"--max-header-bytes", "4096"},
                Map.of("GRANDA_MAX_REQUEST_LINE_BYTES", "2048"));
        assertEquals(4096, c.maxHeaderBytes());
        assertEquals(2048, c.maxRequestLineBytes());
        assertThrows(ServerConfig.InvalidConfigException.class,
                () -> ServerConfig.from(new String[] {"--max-header-bytes", "10"}, Map.of()));
    }

    @Test
    void theRunningServerEnforcesTheConfiguredLimits() throws Exception {
        String owner = "test-limits-" + UUID.randomUUID().toString().substring(0, 8);
        try (GrandaServer server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key",
                ServerHarness.ADMIN_KEY, "--port", "0", "--host",
                "127.0.0.1", "--data-dir", dataDir.toString(), "--owner-id", owner, "--max-header-bytes", "2048",
                "--max-request-line-bytes", "1024"}, Map.of()))) {
            HttpClient client = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> big = client.send(HttpRequest.newBuilder(URI.create(base + "/functions"))
                    .header("X-Big", "a".repeat(3000)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, big.statusCode());
            assertTrue(big.body().contains("larger than 2048 bytes"), big.body());
            HttpResponse<String> longUrl = client.send(HttpRequest.newBuilder(URI.create(base + "/functions?q="
                    + "b".repeat(1100))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(414, longUrl.statusCode());
            assertTrue(longUrl.body().contains("\"error\":\"uri_too_long\""), longUrl.body());
            HttpResponse<String> fine = client.send(HttpRequest.newBuilder(URI.create(base + "/functions"))
                    .header("Authorization", "Bearer " + ServerHarness.ADMIN_KEY)
                    .header("X-Small", "a".repeat(1000)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, fine.statusCode(), fine.body());
        }
    }
}
