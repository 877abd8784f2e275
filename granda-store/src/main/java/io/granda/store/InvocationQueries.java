package io.granda.store;

import io.granda.core.Billing;
import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.StoreException;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
                   COALESCE(SUM(mb_ms), 0) AS mb_ms,
                   COALESCE(SUM(MAX(cpu_us, 0)), 0) AS cpu_us
            FROM invocations
            WHERE start_us >= :since AND start_us < :until""";

    /**
     * Adds one (tenant, function, minute)'s new calls to its aggregate. A later batch's calls take over the name
     * only when they are later than every call the row has, so the row keeps the name of its latest call whatever
     * order the calls arrive in; on a tie the name already there stays, as in the in-memory store.
     */
    private static final String ADD_TO_MINUTE = """
            INSERT INTO usage_minutes (tenant, function_id, minute_us, calls, errors, timeouts, out_of_memory,
                cold_starts, compute_ms, billed_ms, mb_ms, cpu_us, function_name, last_start_us)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, function_id, minute_us) DO UPDATE SET
                calls = calls + excluded.calls,
                errors = errors + excluded.errors,
                timeouts = timeouts + excluded.timeouts,
                out_of_memory = out_of_memory + excluded.out_of_memory,
                cold_starts = cold_starts + excluded.cold_starts,
                compute_ms = compute_ms + excluded.compute_ms,
                billed_ms = billed_ms + excluded.billed_ms,
                mb_ms = mb_ms + excluded.mb_ms,
                cpu_us = cpu_us + excluded.cpu_us,
                function_name = CASE WHEN excluded.last_start_us > last_start_us
                                     THEN excluded.function_name ELSE function_name END,
                last_start_us = MAX(last_start_us, excluded.last_start_us)""";

    /** The sums of a set of aggregate rows, under the names {@link #summary(ResultSet)} reads. */
    private static final String SUMS = """
                   SUM(calls) AS calls, SUM(errors) AS errors, SUM(timeouts) AS timeouts, SUM(out_of_memory) AS oom,
                   SUM(cold_starts) AS cold, SUM(compute_ms) AS compute_ms, SUM(billed_ms) AS billed_ms,
                   SUM(mb_ms) AS mb_ms, SUM(cpu_us) AS cpu_us""";

    /**
     * A series: each aggregate row goes to the bucket its minute is in. The bucket's start is the minute floored to
     * the bucket width (floored, not truncated: SQLite's % rounds towards zero, which would put minutes before 1970
     * into the next bucket). Buckets are whole multiples of the width since the epoch, which is midnight UTC, so
     * hours and days are UTC hours and days.
     */
    private static final String SERIES = "SELECT minute_us - (((minute_us % :width) + :width) % :width) AS bucket_us,"
            + SUMS + """

            FROM usage_minutes
            WHERE minute_us >= :from AND minute_us < :to""";

    /**
     * Per function. SQLite takes the bare column function_name from the row that holds MAX(last_start_us): the
     * function's latest minute, whose name is that of its latest call.
     */
    private static final String BY_FUNCTION = "SELECT tenant, function_id, function_name, MAX(last_start_us) AS latest,"
            + SUMS + """

            FROM usage_minutes
            WHERE minute_us >= :from AND minute_us < :to""";

    /** Records read per query while exporting: enough to make each read worth it, few enough to hold in memory. */
    static final int EXPORT_PAGE = 1_000;

    /** Rows deleted per transaction while purging, so the single writer is never held for long. */
    static final int PURGE_CHUNK = 10_000;

    private static final long MICROS_PER_MINUTE = 60_000_000L;

    private InvocationQueries() {
    }

    /**
     * A record as its row will hold it, computed before the writer is taken so that the write lock is held only
     * for SQLite's work.
     */
    record Row(InvocationRecord record, long startUs, long endUs, long billedMs, long mbMs, long minuteUs,
               long computeMs) {

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
            long startUs;
            long endUs;
            try {
                startUs = EpochMicros.of(r.start());
                endUs = EpochMicros.of(r.end());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invocation " + r.invocationId() + ": " + e.getMessage(), e);
            }
            try {
                // Floored to the minute (before 1970 too), and wall time from the stored microseconds, truncated
                // to whole milliseconds as USAGE sums it, so the aggregates equal the sums over the stored rows.
                long minuteUs = Math.subtractExact(startUs, Math.floorMod(startUs, MICROS_PER_MINUTE));
                long computeMs = Math.subtractExact(endUs, startUs) / 1_000;
                return new Row(r, startUs, endUs, billed, mbMs, minuteUs, computeMs);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("invocation " + r.invocationId() + " cannot be stored: its start "
                        + r.start() + " and end " + r.end() + " are beyond what 64-bit microseconds can hold");
            }
        }

        /** @return what this call adds to its minute's aggregate */
        UsageSummary usage() {
            Outcome o = record.outcome();
            return new UsageSummary(1, o == Outcome.FUNCTION_ERROR ? 1 : 0, o == Outcome.TIMEOUT ? 1 : 0,
                    o == Outcome.OUT_OF_MEMORY ? 1 : 0, record.cold() ? 1 : 0, computeMs, billedMs, mbMs,
                    Math.max(0, record.cpuMicros()));
        }
    }

    /**
     * Inserts the records that are new and adds them to their per-minute aggregates, on the caller's transaction.
     *
     * @return the records that were new (neither stored before nor earlier in {@code rows}), in the order given
     * @throws SQLException when SQLite refuses a row; the caller's transaction then rolls the batch back
     */
    static List<InvocationRecord> append(Handle h, List<Row> rows) throws SQLException {
        List<Row> added = insert(h, rows);
        addToAggregates(h, added);
        return added.stream().map(Row::record).toList();
    }

    /**
     * @return the rows that were new, in the order given
     * @throws SQLException when SQLite refuses a row
     */
    private static List<Row> insert(Handle h, List<Row> rows) throws SQLException {
        // Plain JDBC with positional parameters: this is the hot path of metering, and JDBI's per-row named
        // binding cost more than SQLite's own work here (measured: see SqliteAppendThroughputMeasurement).
        try (PreparedStatement ps = h.getConnection().prepareStatement(INSERT)) {
            List<Row> added = new ArrayList<>(rows.size());
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
                // INSERT OR IGNORE changes no row for an id already stored, including one stored earlier in this
                // very batch, so a change count of 1 is exactly "new".
                if (ps.executeUpdate() == 1) {
                    added.add(row);
                }
            }
            return added;
        }
    }

    /** One aggregate row's key. */
    private record MinuteKey(String tenant, String functionId, long minuteUs) {
    }

    /** New calls of one minute, summed before they go to SQLite: one upsert per minute, not per call. */
    private record MinuteSum(UsageSummary usage, String functionName, long lastStartUs) {

        MinuteSum plus(Row row) {
            // Strictly later only: of calls that started together, the first given names the minute.
            boolean later = row.startUs() > lastStartUs;
            return new MinuteSum(usage.plus(row.usage()), later ? row.record().functionName() : functionName,
                    later ? row.startUs() : lastStartUs);
        }
    }

    private static void addToAggregates(Handle h, List<Row> added) throws SQLException {
        if (added.isEmpty()) {
            return;
        }
        Map<MinuteKey, MinuteSum> minutes = new LinkedHashMap<>();
        for (Row row : added) {
            InvocationRecord r = row.record();
            minutes.compute(new MinuteKey(r.tenant(), r.functionId(), row.minuteUs()), (k, sum) -> sum == null
                    ? new MinuteSum(row.usage(), r.functionName(), row.startUs()) : sum.plus(row));
        }
        try (PreparedStatement ps = h.getConnection().prepareStatement(ADD_TO_MINUTE)) {
            for (Map.Entry<MinuteKey, MinuteSum> e : minutes.entrySet()) {
                MinuteKey k = e.getKey();
                UsageSummary u = e.getValue().usage();
                ps.setString(1, k.tenant());
                ps.setString(2, k.functionId());
                ps.setLong(3, k.minuteUs());
                ps.setLong(4, u.calls());
                ps.setLong(5, u.errors());
                ps.setLong(6, u.timeouts());
                ps.setLong(7, u.outOfMemory());
                ps.setLong(8, u.coldStarts());
                ps.setLong(9, u.computeMillis());
                ps.setLong(10, u.billedMillis());
                ps.setLong(11, u.mbMillis());
                ps.setLong(12, u.cpuMicros());
                ps.setString(13, e.getValue().functionName());
                ps.setLong(14, e.getValue().lastStartUs());
                ps.executeUpdate();
            }
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
        return query.map((rs, ctx) -> summary(rs)).one();
    }

    /** Reads the columns calls, errors, timeouts, oom, cold, compute_ms, billed_ms, mb_ms and cpu_us. */
    private static UsageSummary summary(ResultSet rs) throws SQLException {
        return new UsageSummary(rs.getLong("calls"), rs.getLong("errors"), rs.getLong("timeouts"), rs.getLong("oom"),
                rs.getLong("cold"), rs.getLong("compute_ms"), rs.getLong("billed_ms"), rs.getLong("mb_ms"),
                rs.getLong("cpu_us"));
    }

    /**
     * The window a filter covers, widened to whole buckets and in epoch microseconds: {@code since} down to its
     * bucket's start, {@code until} up to the next bucket's start. Computed on microseconds rather than through
     * {@link Granularity#floor}/{@link Granularity#ceil}, whose Instants overflow for a window open at
     * {@link Instant#MAX}; bucket starts are whole microseconds, so flooring {@code since} (and ceiling
     * {@code until}) to a microsecond first changes no bucket. Beyond the range, the ends clamp.
     */
    record Window(long fromUs, long toUs) {

        static Window of(RecordFilter filter, Granularity granularity) {
            long width = granularity.width().toNanos() / 1_000;
            long since = EpochMicros.floorClamped(filter.since());
            long until = EpochMicros.ceilClamped(filter.until());
            long from;
            long to;
            try {
                from = Math.multiplyExact(Math.floorDiv(since, width), width);
            } catch (ArithmeticException e) {
                from = Long.MIN_VALUE;
            }
            try {
                to = Math.multiplyExact(Math.ceilDiv(until, width), width);
            } catch (ArithmeticException e) {
                to = Long.MAX_VALUE;
            }
            return new Window(from, to);
        }
    }

    /** @return the SQL conditions on tenant and function a filter sets, for {@link #bindTenantAndFunction} to bind */
    private static String whereTenantAndFunction(RecordFilter filter) {
        return (filter.tenant() == null ? "" : " AND tenant = :tenant")
                + (filter.functionId() == null ? "" : " AND function_id = :functionId");
    }

    private static <Q extends SqlStatement<Q>> Q bindTenantAndFunction(Q query, RecordFilter f) {
        if (f.tenant() != null) {
            query.bind("tenant", f.tenant());
        }
        if (f.functionId() != null) {
            query.bind("functionId", f.functionId());
        }
        return query;
    }

    static List<UsageBucket> series(Handle h, RecordFilter filter, Granularity granularity) {
        Window w = Window.of(filter, granularity);
        long width = granularity.width().toNanos() / 1_000;
        return bindTenantAndFunction(h.createQuery(SERIES + whereTenantAndFunction(filter)
                        + " GROUP BY bucket_us ORDER BY bucket_us"), filter)
                .bind("width", width).bind("from", w.fromUs()).bind("to", w.toUs())
                .map((rs, ctx) -> new UsageBucket(EpochMicros.toInstant(rs.getLong("bucket_us")), summary(rs)))
                .list();
    }

    static List<FunctionUsage> byFunction(Handle h, RecordFilter filter) {
        Window w = Window.of(filter, Granularity.MINUTE);
        List<FunctionUsage> out = new ArrayList<>(bindTenantAndFunction(h.createQuery(BY_FUNCTION
                        + whereTenantAndFunction(filter) + " GROUP BY tenant, function_id"), filter)
                .bind("from", w.fromUs()).bind("to", w.toUs())
                .map((rs, ctx) -> new FunctionUsage(rs.getString("tenant"), rs.getString("function_id"),
                        rs.getString("function_name"), summary(rs)))
                .list());
        // Sorted here, not in SQL: SQLite compares text as UTF-8 bytes, Java as UTF-16 units, and the two differ
        // past U+FFFF; the in-memory store sorts as Java does.
        out.sort(BY_TENANT_THEN_NAME);
        return out;
    }

    private static final Comparator<FunctionUsage> BY_TENANT_THEN_NAME = Comparator.comparing(FunctionUsage::tenant)
            .thenComparing(FunctionUsage::functionName).thenComparing(FunctionUsage::functionId);

    /** Where an export has got to: the last record passed, by (start, seq). */
    record ExportPosition(long startUs, long seq) {

        /** Before every record. */
        static final ExportPosition START = new ExportPosition(Long.MIN_VALUE, Long.MIN_VALUE);
    }

    /** One page of an export, and where the next begins. */
    record ExportPage(List<InvocationRecord> records, ExportPosition last) {
    }

    /**
     * One page of the records a filter covers, after {@code after}, ordered by (start, seq): keyset paging, so each
     * page is one short read however far the export has got, and no record is passed twice or skipped.
     *
     * <p>The range starts at {@code after}'s start and only records of that very start are filtered by seq, so the
     * index (invocations_by_start, or invocations_by_function_start when a function is given; both end in seq) is
     * read from the right place whatever the planner makes of a row-value comparison.
     */
    static ExportPage exportPage(Handle h, RecordFilter filter, ExportPosition after, int limit) {
        long since = Math.max(EpochMicros.ceilClamped(filter.since()), after.startUs());
        record Numbered(long startUs, long seq, InvocationRecord record) {
        }
        List<Numbered> rows = bindTenantAndFunction(h.createQuery("SELECT " + COLUMNS + """
                         FROM invocations
                        WHERE start_us >= :since AND start_us < :until
                          AND (start_us > :afterStart OR seq > :afterSeq)""" + whereTenantAndFunction(filter) + """

                        ORDER BY start_us, seq
                        LIMIT :rows"""), filter)
                .bind("since", since).bind("until", EpochMicros.ceilClamped(filter.until()))
                .bind("afterStart", after.startUs()).bind("afterSeq", after.seq()).bind("rows", limit)
                .map((rs, ctx) -> new Numbered(rs.getLong("start_us"), rs.getLong("seq"), toRecord(rs)))
                .list();
        if (rows.isEmpty()) {
            return new ExportPage(List.of(), after);
        }
        Numbered last = rows.getLast();
        return new ExportPage(rows.stream().map(Numbered::record).toList(),
                new ExportPosition(last.startUs(), last.seq()));
    }

    /** @return how many records were deleted: at most {@link #PURGE_CHUNK}, the oldest first */
    static int purgeRecordsChunk(Handle h, long cutoffUs) {
        // seq is the rowid: deleting by it is a direct b-tree lookup; the subquery reads invocations_by_start.
        return h.createUpdate("""
                        DELETE FROM invocations WHERE seq IN (
                            SELECT seq FROM invocations WHERE start_us < :cutoff ORDER BY start_us LIMIT :chunk)""")
                .bind("cutoff", cutoffUs).bind("chunk", PURGE_CHUNK)
                .execute();
    }

    /** @return how many aggregate rows were deleted: at most {@link #PURGE_CHUNK}, the oldest minutes first */
    static int purgeAggregatesChunk(Handle h, long cutoffMinuteUs) {
        // WITHOUT ROWID: rows are found again by their primary key; the subquery reads usage_minutes_by_minute.
        return h.createUpdate("""
                        DELETE FROM usage_minutes WHERE (tenant, function_id, minute_us) IN (
                            SELECT tenant, function_id, minute_us FROM usage_minutes
                             WHERE minute_us < :cutoff ORDER BY minute_us LIMIT :chunk)""")
                .bind("cutoff", cutoffMinuteUs).bind("chunk", PURGE_CHUNK)
                .execute();
    }

    /**
     * @param cutoff an instant
     * @return the start of the minute holding it, in epoch microseconds: aggregates of minutes before it end by
     *         the cutoff
     */
    static long minuteFloor(Instant cutoff) {
        long us = EpochMicros.floorClamped(cutoff);
        try {
            return Math.multiplyExact(Math.floorDiv(us, MICROS_PER_MINUTE), MICROS_PER_MINUTE);
        } catch (ArithmeticException e) {
            return Long.MIN_VALUE;
        }
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
