package io.granda.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The config's defaults are usable as they are, and every bad setting is named. */
class SqliteStoreConfigTest {

    @TempDir
    Path dir;

    @Test
    void defaultsAreValid() {
        SqliteStoreConfig c = SqliteStoreConfig.defaults();

        assertEquals(Path.of("granda.db"), c.path());
        assertEquals(Duration.ofSeconds(5), c.busyTimeout());
        assertEquals(4, c.readerConnections());
        assertFalse(c.syncEveryCommit());
        assertEquals(c, c.validate());
    }

    @Test
    void everyBadSettingIsRefusedByName() {
        SqliteStoreConfig ok = SqliteStoreConfig.defaults(dir.resolve("x.db"));

        assertMessage("path", () -> ok.withPath(null).validate());
        assertMessage("path", () -> ok.withPath(Path.of(":memory:")).validate());
        assertMessage("directory", () -> ok.withPath(dir).validate());
        assertMessage("busyTimeout", () -> ok.withBusyTimeout(Duration.ofMillis(-1)).validate());
        assertMessage("busyTimeout", () -> ok.withBusyTimeout(null).validate());
        assertMessage("readerConnections", () -> ok.withReaderConnections(0).validate());
        assertMessage("readerConnections", () -> ok.withReaderConnections(65).validate());
        assertMessage("readerConnections", () -> SqliteStore.open(ok.withReaderConnections(0),
                java.time.Clock.systemUTC()));
    }

    @Test
    void syncEveryCommitStillStores() {
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("full.db"))
                .withSyncEveryCommit(true).withReaderConnections(1), java.time.Clock.systemUTC())) {
            store.functions().create(TestData.spec("durable"));
            assertTrue(store.functions().find("durable").isPresent());
        }
    }

    private static void assertMessage(String word, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(word), e.getMessage());
    }
}
