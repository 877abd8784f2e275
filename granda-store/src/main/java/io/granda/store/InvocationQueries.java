package io.granda.store;

import io.granda.core.Billing;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.StoreException;
import io.granda.core.UsageSummary;
import org.jdbi.v3.core.Handle;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The SQL of the metering store, run on whatever connection the caller holds. Not API; stateless.
 */
final class InvocationQueries {

    private static final String COLUMNS = """
            seq, invocation_id, tenant, function_id, function_name, revision, start_us, end_us, queue_us, pull_us,
            create_start_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold, request_bytes,
            response_bytes""";

    private static final String INSERT = """
            INSERT OR IGNORE INTO invocations (invocation_id, tenant, function_id, function_name, revision, start_us,
                end_us, queue_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold, request_bytes,
                response_bytes, billed_ms, mb_ms, pull_us, create_start_us)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";

    /**
     * Wall time is summed per call in whole milliseconds, as {@link InvocationRecord#durationMillis()} counts it:
     * SQLite's integer division truncates towards zero, as {@code Duration.toMillis()} does.
     */
    private static final String USAGE = """
            SELECT COUNT(*) AS calls,
                   COALESCE(SUM(outcome = 'FUNCTION_ERROR'), 0) AS errors,
                   COALESCE(SUM(outcome = 'TIMEOUT'), 0) AS timeouts,
                   COALESCE(SUM(outcome = 'OUT_OF_MEMORY'), 0) AS oom,
                   COALESCE(SUM(cold), 0) AS cold,
                   COALESCE(SUM((end_us - start_us) / 1000), 0) AS compute_ms,
                   COALESCE(SUM(billed_ms), 0) AS billed_ms,
                   COALESCE(SUM(mb_ms), 0) AS mb_ms
            FROM invocations
            WHERE start_us >= :since AND start_us < :until""";

    private InvocationQueries() {
    }

    /**
     * A record as its row will hold it, computed before the writer is taken so that the write lock is held only
     * for SQLite's work.
     */
    record Row(InvocationRecord record, long startUs, long endUs, long billedMs, long mbMs) {

        /**
         * @throws IllegalArgumentException when the record cannot be stored: an instant beyond the range of 64-bit
         *                                  epoch microseconds, or billed memory time that overflows a long
         */
        static Row of(InvocationRecord r) {
            long billed = r.billedMillis();
            long mbMs;
            try {
                mbMs = Billing.mbMillis(r.memoryMb(), billed);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("invocation " + r.invocationId() + " cannot be stored: "
                        + r.memoryMb() + " MiB x " + billed + " ms overflows");
            }
            try {
                return new Row(r, EpochMicros.of(r.start()), EpochMicros.of(r.end()), billed, mbMs);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invocation " + r.invocationId() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * @return how many rows were new
     * @throws SQLException when SQLite refuses a row; the caller's transaction then rolls the batch back
     */
    static int insert(Handle h, List<Row> rows) throws SQLException {
        // Plain JDBC with positional parameters: this is the hot path of metering, and JDBI's per-row named
        // binding cost more than SQLite's own work here (measured: see SqliteAppendThroughputMeasurement).
        try (PreparedStatement ps = h.getConnection().prepareStatement(INSERT)) {
            int added = 0;
            for (Row row : rows) {
                InvocationRecord r = row.record();
                ps.setString(1, r.invocationId());
                ps.setString(2, r.tenant());
                ps.setString(3, r.functionId());
                ps.setString(4, r.functionName());
                ps.setLong(5, r.revision());
                ps.setLong(6, row.startUs());
                ps.setLong(7, row.endUs());
                ps.setLong(8, r.queueMicros());
                ps.setLong(9, r.initMicros());
                ps.setLong(10, r.runMicros());
                ps.setInt(11, r.memoryMb());
                ps.setLong(12, r.cpuMicros());
                ps.setString(13, r.outcome().name());
                ps.setInt(14, r.exitCode());
                ps.setInt(15, r.cold() ? 1 : 0);
                ps.setLong(16, r.requestBytes());
                ps.setLong(17, r.responseBytes());
                ps.setLong(18, row.billedMs());
                ps.setLong(19, row.mbMs());
                ps.setLong(20, r.phases().pullMicros());
                ps.setLong(21, r.phases().startMicros());
                // An ignored duplicate changes 0 rows, so the sum is the number of new records.
                added += ps.executeUpdate();
            }
            return added;
        }
    }

    static Optional<InvocationRecord> find(Handle h, String invocationId) {
        return h.createQuery("SELECT " + COLUMNS + " FROM invocations WHERE invocation_id = :id")
                .bind("id", invocationId)
                .map((rs, ctx) -> toRecord(rs))
                .findOne();
    }

    /**
     * Keyset paging on the arrival sequence: a cursor is the {@code seq} of the last record handed out, so pages
     * never overlap or skip, whatever arrives in between.
     */
    static Page<InvocationRecord> page(Handle h, String functionId, int limit, long beforeSeq) {
        record Numbered(long seq, InvocationRecord record) {
        }
        // One extra row says whether there is a next page without a second query.
        List<Numbered> rows = h.createQuery("SELECT " + COLUMNS + """
                         FROM invocations
                        WHERE function_id = :functionId AND seq < :before
                        ORDER BY seq DESC
                        LIMIT :rows""")
                .bind("functionId", functionId).bind("before", beforeSeq).bind("rows", (long) limit + 1)
                .map((rs, ctx) -> new Numbered(rs.getLong("seq"), toRecord(rs)))
                .list();
        if (rows.size() <= limit) {
            return new Page<>(rows.stream().map(Numbered::record).toList(), null);
        }
        List<Numbered> items = rows.subList(0, limit);
        return new Page<>(items.stream().map(Numbered::record).toList(), Cursors.encode(items.getLast().seq()));
    }

    static UsageSummary usage(Handle h, String functionId, Instant since, Instant until) {
        var query = h.createQuery(functionId == null ? USAGE : USAGE + " AND function_id = :functionId")
                .bind("since", EpochMicros.ceilClamped(since)).bind("until", EpochMicros.ceilClamped(until));
        if (functionId != null) {
            query.bind("functionId", functionId);
        }
        return query.map((rs, ctx) -> new UsageSummary(rs.getLong("calls"), rs.getLong("errors"),
                        rs.getLong("timeouts"), rs.getLong("oom"), rs.getLong("cold"), rs.getLong("compute_ms"),
                        rs.getLong("billed_ms"), rs.getLong("mb_ms")))
                .one();
    }

    private static InvocationRecord toRecord(ResultSet rs) throws SQLException {
        String outcomeName = rs.getString("outcome");
        Outcome outcome;
        try {
            outcome = Outcome.valueOf(outcomeName);
        } catch (IllegalArgumentException e) {
            throw new StoreException("invocation " + rs.getString("invocation_id") + " has outcome '" + outcomeName
                    + "', which this Granda does not know");
        }
        return new InvocationRecord(rs.getString("invocation_id"), rs.getString("tenant"),
                rs.getString("function_id"), rs.getString("function_name"), rs.getLong("revision"),
                EpochMicros.toInstant(rs.getLong("start_us")), EpochMicros.toInstant(rs.getLong("end_us")),
                new InvocationRecord.PhaseMicros(rs.getLong("queue_us"), rs.getLong("pull_us"),
                        rs.getLong("create_start_us"), rs.getLong("init_us"), rs.getLong("run_us")),
                rs.getInt("memory_mb"),
                rs.getLong("cpu_us"), outcome, rs.getInt("exit_code"), rs.getInt("cold") != 0,
                rs.getLong("request_bytes"), rs.getLong("response_bytes"));
    }

    /** Page cursors: the decimal {@code seq} of the last record on the previous page. */
    static final class Cursors {

        private Cursors() {
        }

        static String encode(long seq) {
            return Long.toString(seq);
        }

        /**
         * @param cursor a cursor, or {@code null} (or empty) for the first page
         * @return the seq the page must stay below
         * @throws IllegalArgumentException when the cursor is not one this store made
         */
        static long decode(String cursor) {
            if (cursor == null || cursor.isEmpty()) {
                return Long.MAX_VALUE;
            }
            try {
                long seq = Long.parseLong(cursor);
                if (seq >= 1 && cursor.equals(Long.toString(seq))) {
                    return seq;
                }
            } catch (NumberFormatException e) {
                // fall through to the one message
            }
            throw new IllegalArgumentException("invalid page cursor '" + abbreviate(cursor)
                    + "': pass the nextCursor of the previous page, or none for the first page");
        }

        private static String abbreviate(String s) {
            return s.length() <= 40 ? s : s.substring(0, 37) + "...";
        }
    }
}
