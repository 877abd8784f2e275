package io.granda.store;

import io.granda.core.spi.FunctionRegistry;
import io.granda.testkit.FakeClock;
import io.granda.testkit.FunctionRegistryContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The SQLite registry, on a real file, against the shared registry contract. */
class SqliteStoreRegistryTest extends FunctionRegistryContract {

    @TempDir
    Path dir;

    private SqliteStore store;

    @Override
    protected FunctionRegistry createRegistry(FakeClock clock) {
        store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), clock);
        return store.functions();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }
}
