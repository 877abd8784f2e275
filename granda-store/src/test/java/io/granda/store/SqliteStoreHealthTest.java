package io.granda.store;

import io.granda.core.spi.ComponentHealth;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The health check proves the store can write, and says why when it cannot. */
class SqliteStoreHealthTest {

    @TempDir
    Path dir;

    @Test
    void anOpenStoreIsUpAndBothViewsReportTheSameComponent() {
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("g.db")), new FakeClock())) {
            ComponentHealth h = store.health();
            assertTrue(h.up(), h.detail());
            assertTrue(h.detail().contains("g.db"), h.detail());
            assertEquals("store", store.functions().healthName());
            assertEquals("store", store.metering().healthName());
            assertTrue(store.functions().health().up());
            assertTrue(store.metering().health().up());
        }
    }

    @Test
    void aClosedStoreIsDownWithTheReasonAndTheCheckDoesNotThrow() {
        SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("g.db")), new FakeClock());
        store.close();
        ComponentHealth h = store.health();
        assertFalse(h.up());
        assertTrue(h.detail().contains("closed"), h.detail());
    }
}
