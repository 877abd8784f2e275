package io.granda.store;

import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.RecordFilter;
import io.granda.core.spi.MeteringStore;
import io.granda.testkit.FakeClock;
import io.granda.testkit.MeteringStoreContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.granda.store.TestData.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SQLite metering store, on a real file, against the shared metering contract; and what only SQLite has:
 * purges in chunks, and exports that hold no connection while the sink runs.
 */
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

    @Test
    @Timeout(300) // guards against a hang only; no timing is asserted
    void purgesOfMoreRowsThanOneChunkDeleteThemAll() throws Exception {
        // One record per minute, so that there are as many aggregate rows as records: both purges need three
        // chunks, the last one short.
        int total = 2 * InvocationQueries.PURGE_CHUNK + 5_001;
        List<InvocationRecord> batch = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            batch.add(record(String.format("p-%05d", i), "fn-" + (i % 2), T0.plus(Duration.ofMinutes(i))));
            if (batch.size() == 1_000 || i == total - 1) {
                store.metering().append(batch);
                batch.clear();
            }
        }
        Path db = store.path();
        assertEquals(total, count(db, "SELECT COUNT(*) FROM usage_minutes"));
        // The cutoff lies inside the last record's minute: that record and its minute stay.
        Instant cutoff = T0.plus(Duration.ofMinutes(total - 1));

        assertEquals(total - 1, store.metering().purgeRecordsBefore(cutoff));
        assertEquals(1, count(db, "SELECT COUNT(*) FROM invocations"));
        assertEquals(total, count(db, "SELECT COUNT(*) FROM usage_minutes"), "records' purge keeps the aggregates");

        assertEquals(total - 1, store.metering().purgeAggregatesBefore(cutoff));
        assertEquals(1, count(db, "SELECT COUNT(*) FROM usage_minutes"));
        assertEquals(1, store.metering().usageSeries(RecordFilter.all(T0, cutoff.plusSeconds(60)), Granularity.DAY)
                .stream().mapToLong(b -> b.usage().calls()).sum());
        assertEquals(0, store.metering().purgeRecordsBefore(cutoff));
        assertEquals(0, store.metering().purgeAggregatesBefore(cutoff));
    }

    @Test
    @Timeout(60) // a held connection would deadlock here; this fails the test instead of hanging the build
    void anExportHoldsNoConnectionWhileTheSinkRuns() {
        try (SqliteStore oneReader = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("one-reader.db"))
                .withReaderConnections(1), clock)) {
            List<InvocationRecord> records = new ArrayList<>();
            for (int i = 0; i < 2_500; i++) {
                records.add(record("x-" + i, "fn-x", T0.plusNanos(i * 1_000L)));
            }
            oneReader.metering().append(records);
            AtomicInteger found = new AtomicInteger();

            // With one reader connection, a sink that reads the store would wait forever if the export held it.
            long n = oneReader.metering().exportRecords(RecordFilter.all(T0, T0.plusSeconds(1)), r -> {
                if (oneReader.metering().find(r.invocationId()).isPresent()) {
                    found.incrementAndGet();
                }
            });

            assertEquals(2_500, n);
            assertEquals(2_500, found.get());
        }
    }

    @Test
    void whatTheSinkThrowsEndsTheExportAndLeavesTheStoreUsable() {
        try (SqliteStore oneReader = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("throwing.db"))
                .withReaderConnections(1), clock)) {
            List<InvocationRecord> records = new ArrayList<>();
            for (int i = 0; i < 1_500; i++) {
                records.add(record("t-" + i, "fn-t", T0.plusNanos(i * 1_000L)));
            }
            oneReader.metering().append(records);
            IllegalStateException refused = new IllegalStateException("client went away (test)");
            AtomicInteger passed = new AtomicInteger();

            IllegalStateException e = assertThrows(IllegalStateException.class, () -> oneReader.metering()
                    .exportRecords(RecordFilter.all(T0, T0.plusSeconds(1)), r -> {
                        if (passed.incrementAndGet() == 1_200) {
                            throw refused;
                        }
                    }));

            assertSame(refused, e);
            assertEquals(1_200, passed.get(), "nothing was passed after the sink threw");
            assertTrue(oneReader.metering().find("t-0").isPresent(), "the one reader connection was given back");
        }
    }
}
