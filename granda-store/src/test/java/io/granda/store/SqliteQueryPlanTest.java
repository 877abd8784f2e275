package io.granda.store;

import io.granda.core.RecordFilter;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reads of invocation records go along an index, in the order they return rows, as SQLite plans them on the
 * schema migrations make: no query scans the table, and none sorts (a sort would read every row of the range before
 * the first row is returned, and LIMIT would no longer bound the read).
 */
class SqliteQueryPlanTest {

    @TempDir
    Path dir;

    private static final Instant T = Instant.parse("2026-03-01T10:00:00Z");

    @Test
    void everyReadOfRecordsUsesAnIndexAndNeedsNoSort() throws Exception {
        Path db = dir.resolve("plans.db");
        SqliteStore.open(SqliteStoreConfig.defaults(db), new FakeClock()).close();

        assertEquals(List.of("SEARCH invocations USING PRIMARY KEY (invocation_id=?)"),
                plan(db, InvocationQueries.FIND));
        assertEquals(List.of("SEARCH invocations USING INDEX invocations_by_function_start (function_id=?)"),
                plan(db, InvocationQueries.PAGE_FIRST));
        assertEquals(List.of("SEARCH invocations USING INDEX invocations_by_function_start "
                + "(function_id=? AND (start_us,invocation_id)<(?,?))"), plan(db, InvocationQueries.PAGE_AFTER));
        assertEquals(List.of("SEARCH invocations USING INDEX invocations_by_start (start_us>? AND start_us<?)"),
                plan(db, InvocationQueries.USAGE));
        assertEquals(List.of("SEARCH invocations USING INDEX invocations_by_function_start "
                + "(function_id=? AND start_us>? AND start_us<?)"), plan(db, InvocationQueries.USAGE_OF_FUNCTION));
        for (RecordFilter f : List.of(RecordFilter.all(T, T.plusSeconds(60)),
                new RecordFilter("acme", null, T, T.plusSeconds(60)),
                new RecordFilter(null, "fn", T, T.plusSeconds(60)),
                new RecordFilter("acme", "fn", T, T.plusSeconds(60)))) {
            String index = f.functionId() == null ? "invocations_by_start (start_us>? AND start_us<?)"
                    : "invocations_by_function_start (function_id=? AND start_us>? AND start_us<?)";
            for (boolean after : new boolean[] {false, true}) {
                assertEquals(List.of("SEARCH invocations USING INDEX " + index),
                        plan(db, InvocationQueries.exportSql(f, after)), f + ", after a position: " + after);
            }
        }
        List<String> purge = plan(db, InvocationQueries.PURGE_RECORDS);
        assertTrue(purge.contains("SEARCH invocations USING PRIMARY KEY (invocation_id=?)"), purge.toString());
        assertTrue(purge.contains("SEARCH invocations USING COVERING INDEX invocations_by_start (start_us<?)"),
                purge.toString());
        assertFalse(purge.stream().anyMatch(d -> d.contains("SCAN") || d.contains("TEMP B-TREE")),
                purge.toString());
    }

    @Test
    void theEventGaugesReadOnlyTheStatusIndex() throws Exception {
        Path db = dir.resolve("events.db");
        SqliteStore.open(SqliteStoreConfig.defaults(db), new FakeClock()).close();

        // Scraped every few seconds, whatever the size of the store: a covering index, never the table, never a sort.
        assertEquals(List.of("SEARCH async_events USING COVERING INDEX async_events_by_status (status=?)"),
                plan(db, SqliteEventStore.COUNT_BY_STATUS));
        List<String> oldest = plan(db, SqliteEventStore.OLDEST_DUE);
        assertEquals(2, oldest.stream().filter(d -> d.equals(
                "SEARCH async_events USING COVERING INDEX async_events_by_status (status=?)")).count(), oldest.toString());
        assertFalse(oldest.stream().anyMatch(d -> d.contains("SCAN async_events") || d.contains("TEMP B-TREE")),
                oldest.toString());
    }

    /** @return the detail of every line of SQLite's plan, parameters unbound */
    private static List<String> plan(Path db, String sql) throws SQLException {
        try (Connection c = TestData.jdbc(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("EXPLAIN QUERY PLAN " + sql)) {
            List<String> details = new ArrayList<>();
            while (rs.next()) {
                details.add(rs.getString("detail"));
            }
            return details;
        }
    }
}
