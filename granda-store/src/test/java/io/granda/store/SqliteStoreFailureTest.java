package io.granda.store;

import io.granda.core.DeployedFunction;
import io.granda.core.InvocationRecord;
import io.granda.core.StoreException;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.granda.store.TestData.count;
import static io.granda.store.TestData.exec;
import static io.granda.store.TestData.record;
import static io.granda.store.TestData.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes that fail part-way leave nothing behind, and failures say what happened. Failures are caused for real: a
 * trigger, installed through a second connection as another process could, makes SQLite abort a chosen insert.
 */
class SqliteStoreFailureTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private Path db;
    private SqliteStore store;

    @BeforeEach
    void open() {
        db = dir.resolve("failures.db");
        store = SqliteStore.open(SqliteStoreConfig.defaults(db), new FakeClock(T0));
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void anAppendThatFailsPartWayWritesNoneOfItsBatch() throws Exception {
        exec(db, """
                CREATE TRIGGER poison BEFORE INSERT ON invocations WHEN NEW.invocation_id = 'poison'
                BEGIN SELECT RAISE(ABORT, 'poisoned record refused'); END""");
        List<InvocationRecord> batch = List.of(record("a", "fn", T0), record("b", "fn", T0.plusMillis(1)),
                record("poison", "fn", T0.plusMillis(2)), record("c", "fn", T0.plusMillis(3)));

        StoreException e = assertThrows(StoreException.class, () -> store.metering().append(batch));

        assertTrue(e.getMessage().contains("append 4 invocation records"), e.getMessage());
        assertTrue(e.getMessage().contains("poisoned record refused"), e.getMessage());
        assertTrue(e.getMessage().contains(db.toString()), e.getMessage());
        assertEquals(Optional.empty(), store.metering().find("a"));
        assertEquals(0, count(db, "SELECT COUNT(*) FROM invocations"));

        // The writer is usable again, and the whole batch can be retried.
        exec(db, "DROP TRIGGER poison");
        assertEquals(batch, store.metering().append(batch));
    }

    @Test
    void aRecordSqliteSkipsSilentlyFailsTheAppendRatherThanBeingLost() throws Exception {
        // Appends insert with OR IGNORE, which skips a stored id, but would skip a row for other reasons too: here
        // a trigger skips one (RAISE(IGNORE)). It was not stored before, so append must not take it for a
        // duplicate, which would lose the record and its billing.
        exec(db, """
                CREATE TRIGGER skip BEFORE INSERT ON invocations WHEN NEW.invocation_id = 'skipped'
                BEGIN SELECT RAISE(IGNORE); END""");
        store.metering().append(List.of(record("stored-before", "fn", T0)));
        List<InvocationRecord> batch = List.of(record("a", "fn", T0.plusMillis(1)), record("stored-before", "fn", T0),
                record("skipped", "fn", T0.plusMillis(2)), record("b", "fn", T0.plusMillis(3)));

        StoreException e = assertThrows(StoreException.class, () -> store.metering().append(batch));

        assertTrue(e.getMessage().contains("stored 2 of 3 new invocation records"), e.getMessage());
        assertEquals(1, count(db, "SELECT COUNT(*) FROM invocations"));
        assertEquals(1, count(db, "SELECT SUM(calls) FROM usage_minutes"));

        exec(db, "DROP TRIGGER skip");
        assertEquals(List.of(batch.get(0), batch.get(2), batch.get(3)), store.metering().append(batch));
    }

    @Test
    void anAppendWhoseAggregatesFailWritesNoneOfItsRecords() throws Exception {
        // The aggregate of a minute that already has a row fails to update: the records inserted before it in
        // the same transaction must go too, or a retry would find them stored and never count them.
        store.metering().append(List.of(record("first", "fn", T0)));
        exec(db, """
                CREATE TRIGGER no_aggregate BEFORE UPDATE ON usage_minutes
                BEGIN SELECT RAISE(ABORT, 'aggregate refused'); END""");
        List<InvocationRecord> batch = List.of(record("a", "fn", T0.plusMillis(1)), record("b", "fn-2", T0.plusMillis(2)));

        StoreException e = assertThrows(StoreException.class, () -> store.metering().append(batch));

        assertTrue(e.getMessage().contains("aggregate refused"), e.getMessage());
        assertEquals(1, count(db, "SELECT COUNT(*) FROM invocations"));
        assertEquals(1, count(db, "SELECT SUM(calls) FROM usage_minutes"));
        exec(db, "DROP TRIGGER no_aggregate");
        assertEquals(batch, store.metering().append(batch));
        assertEquals(3, count(db, "SELECT SUM(calls) FROM usage_minutes"));
        assertEquals(3, store.metering().usage(null, T0, T0.plusSeconds(60)).calls());
    }

    @Test
    void aCreateThatFailsPartWayLeavesNoFunction() throws Exception {
        exec(db, """
                CREATE TRIGGER no_env BEFORE INSERT ON function_env
                BEGIN SELECT RAISE(ABORT, 'env refused'); END""");

        StoreException e = assertThrows(StoreException.class,
                () -> store.functions().create(spec("half").toBuilder().env(Map.of("A", "1")).build()));

        assertTrue(e.getMessage().contains("create function half"), e.getMessage());
        assertEquals(Optional.empty(), store.functions().find("half"));
        assertEquals(0, count(db, "SELECT COUNT(*) FROM functions"));
        assertEquals(0, count(db, "SELECT COUNT(*) FROM function_revisions"));
        exec(db, "DROP TRIGGER no_env");
        assertEquals(1, store.functions().create(spec("half").toBuilder().env(Map.of("A", "1")).build()).revision());
    }

    @Test
    void anUpdateThatFailsPartWayKeepsTheCurrentRevision() throws Exception {
        DeployedFunction v1 = store.functions().create(spec("steady"));
        exec(db, """
                CREATE TRIGGER no_current BEFORE UPDATE ON functions
                BEGIN SELECT RAISE(ABORT, 'update refused'); END""");

        assertThrows(StoreException.class, () -> store.functions().update(spec("steady").toBuilder().memoryMb(256)
                .build(), 1));

        // The new revision's row was inserted before the failing statement; it must be gone too.
        assertEquals(List.of(v1), store.functions().revisions("steady"));
        exec(db, "DROP TRIGGER no_current");
        assertEquals(2, store.functions().update(spec("steady"), 1).revision());
    }

    @Test
    void aRecordThatCannotBeStoredRefusesTheWholeBatch() throws Exception {
        InvocationRecord tooLate = new InvocationRecord("too-late", "t", "fn", "fn", 1, Instant.MAX, Instant.MAX, new InvocationRecord.PhaseMicros(0, 0, 0, 0, 0), 128, -1, io.granda.core.Outcome.SUCCESS, 0, false, 0, 0);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.metering().append(List.of(record("fine", "fn", T0), tooLate)));

        assertTrue(e.getMessage().contains("too-late"), e.getMessage());
        assertEquals(0, count(db, "SELECT COUNT(*) FROM invocations"));
    }

    @Test
    void aClosedStoreRefusesEveryCallAndClosesOnlyOnce() {
        store.close();

        assertThrows(StoreException.class, () -> store.functions().find("x"));
        assertThrows(StoreException.class, () -> store.functions().create(spec("x")));
        assertThrows(StoreException.class, () -> store.metering().append(List.of(record("x", "fn", T0))));
        StoreException e = assertThrows(StoreException.class, () -> store.metering().usage(null, T0, T0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        store.close(); // idempotent
    }
}
