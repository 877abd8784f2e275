package io.granda.store;

import io.granda.core.InvocationRequest;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.EventStatus;
import io.granda.core.async.NewEvent;
import io.granda.core.spi.EventStore;
import io.granda.testkit.EventStoreContract;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The SQLite event store, on a real file, against the shared contract; and what only a file can show: restarts. */
class SqliteEventStoreTest extends EventStoreContract {

    @TempDir
    Path dir;

    private SqliteStore store;

    @Override
    protected EventStore createStore(FakeClock clock) {
        store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), clock);
        return store.events();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void acceptedAndRunningEventsAreThereAfterReopening() {
        NewEvent e = new NewEvent("01evt0000000000000000000001", "default", "fn-1", "orders", "api",
                new InvocationRequest("POST", "/", "", Map.of("A", List.of("b")), new byte[] {0, 1, 2, (byte) 255}),
                "k", null, T0);
        store.events().accept(e, WINDOW);
        NewEvent running = new NewEvent("01evt0000000000000000000002", "default", "fn-1", "orders", "api",
                new InvocationRequest("POST", "/", "", Map.of(), new byte[0]), null, null, T0);
        store.events().accept(running, WINDOW);
        store.events().start(running.id(), 0, T0);
        store.close();

        store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), clock);
        AsyncEvent back = store.events().find(e.id()).orElseThrow();
        assertEquals(EventStatus.QUEUED, back.status());
        assertEquals(4, back.request().body().length);
        assertEquals((byte) 255, back.request().body()[3]);
        assertEquals(1, store.events().requeueInterrupted(T0));
        assertEquals(EventStatus.QUEUED, store.events().find(running.id()).orElseThrow().status());
        assertEquals(1, store.events().find(running.id()).orElseThrow().interruptedAttempts());
    }
}
