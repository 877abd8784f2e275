package io.granda.server;

import io.granda.core.access.ApiKeys;
import io.granda.core.access.IssuedApiKey;
import io.granda.core.access.Role;
import io.granda.store.SqliteStore;
import io.granda.store.SqliteStoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin key at start-up: configured, or generated at the first start and printed once; never in a message. */
class AdminKeyBootstrapTest {

    @TempDir
    Path dir;

    private String runOnce(Optional<String> configured) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), Clock.systemUTC());
             PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            ApiKeys keys = new ApiKeys(store.apiKeys(), Clock.systemUTC());
            Optional<IssuedApiKey> issued = AdminKeyBootstrap.run(keys, configured, print, "http://localhost:8881");
            issued.ifPresent(i -> assertEquals(i.key(), keys.verify(i.token()).orElseThrow()));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theFirstStartPrintsAGeneratedAdminKeyAndNoLaterStartDoes() {
        String first = runOnce(Optional.empty());
        assertTrue(first.contains("Granda admin API key (shown this once"), first);
        String key = first.lines().map(String::strip).filter(l -> l.startsWith("gk_")).findFirst().orElseThrow();
        assertTrue(first.contains("curl -H 'Authorization: Bearer " + key + "' http://localhost:8881/functions"), first);

        assertEquals("", runOnce(Optional.empty()), "printed once, never again");
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), Clock.systemUTC())) {
            ApiKeys keys = new ApiKeys(store.apiKeys(), Clock.systemUTC());
            assertEquals(Role.ADMIN, keys.verify(key).orElseThrow().role(), "the printed key works after a restart");
            assertEquals(1, keys.keys(null).size());
        }
    }

    @Test
    void aConfiguredKeyIsInstalledAndNothingIsPrinted() {
        String configured = "gk_ops1_" + "a1b2c3d4".repeat(8);
        assertEquals("", runOnce(Optional.of(configured)));
        assertEquals("", runOnce(Optional.of(configured)));
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), Clock.systemUTC())) {
            ApiKeys keys = new ApiKeys(store.apiKeys(), Clock.systemUTC());
            assertEquals("ops1", keys.verify(configured).orElseThrow().keyId());
            assertEquals(1, keys.keys(null).size());
        }
        // A configured key later replaced by another secret: the old one stops working.
        String rotated = "gk_ops1_" + "f0e1d2c3".repeat(8);
        runOnce(Optional.of(rotated));
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), Clock.systemUTC())) {
            ApiKeys keys = new ApiKeys(store.apiKeys(), Clock.systemUTC());
            assertTrue(keys.verify(rotated).isPresent());
            assertTrue(keys.verify(configured).isEmpty());
        }
    }

    @Test
    void aBadKeyInTheConfigurationIsRefusedWithoutRepeatingIt() {
        String bad = "my-secret-password-123";
        ServerConfig.InvalidConfigException e = assertThrows(ServerConfig.InvalidConfigException.class,
                () -> ServerConfig.from(new String[] {"--admin-key", bad}, Map.of()));
        assertFalse(e.getMessage().contains(bad), e.getMessage());
        assertTrue(e.getMessage().contains("gk_<id>_<secret>"), e.getMessage());
        ServerConfig.InvalidConfigException m = assertThrows(ServerConfig.InvalidConfigException.class,
                () -> ServerConfig.from(new String[] {"--metrics-key", "short"}, Map.of()));
        assertFalse(m.getMessage().contains("short'"), m.getMessage());

        String good = "gk_fromenv_" + "0123456789abcdef".repeat(4);
        ServerConfig c = ServerConfig.from(new String[0], Map.of("GRANDA_ADMIN_KEY", good,
                "GRANDA_METRICS_KEY", "scrape-token-0123456789"));
        assertEquals(Optional.of(good), c.adminKey());
        assertTrue(c.requireApiKey(), "keys are required by default");
        assertFalse(c.toString().contains(good.substring(11)), c.toString());
        assertFalse(c.toString().contains("scrape-token"), c.toString());
        assertFalse(ServerConfig.from(new String[] {"--require-api-key", "false"}, Map.of()).requireApiKey());
        assertTrue(ServerConfig.help().contains("GRANDA_ADMIN_KEY"), ServerConfig.help());
    }
}
