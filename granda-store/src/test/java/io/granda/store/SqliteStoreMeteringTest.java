package io.granda.store;

import io.granda.core.spi.MeteringStore;
import io.granda.testkit.FakeClock;
import io.granda.testkit.MeteringStoreContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The SQLite metering store, on a real file, against the shared metering contract. */
class SqliteStoreMeteringTest extends MeteringStoreContract {

    @TempDir
    Path dir;

    private SqliteStore store;

    @Override
    protected MeteringStore createStore(FakeClock clock) {
        store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), clock);
        return store.metering();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }
}
