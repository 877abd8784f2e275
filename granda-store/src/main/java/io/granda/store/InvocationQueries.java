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

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The SQL of the metering store, run on whatever connection the caller holds. Not API; stateless.
 */
final class InvocationQueries {

    private static final String COLUMNS = """
            invocation_id, tenant, function_id, function_name, revision, start_us, end_us, queue_us, pull_us,
            create_start_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold, request_bytes,
            response_bytes""";

    /** The columns an insert binds, one {@code ?} each, in the order {@link #bind} sets them. */
    private static final String INSERT_COLUMNS = """
            invocation_id, tenant, function_id, function_name, revision, start_us, end_us, queue_us, pull_us,
            create_start_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold, request_bytes,
            response_bytes, billed_ms, mb_ms""";

    /** Bound parameters per inserted row: one per column of {@link #INSERT_COLUMNS}. */
    private static final int INSERT_PARAMETERS = 21;

    /**
     * Most rows per INSERT statement; a power of two. One statement of many rows costs SQLite far less per row than
     * one statement per row: the statement's start, its cursors and the seek from the root of each b-tree are paid
     * once per statement rather than per row (measured: see SqliteAppendThroughputMeasurement). Past a few dozen
     * rows the gain flattens. 64 x 21 parameters is far below SQLite's limit of 32,766.
     */
    static final int INSERT_CHUNK = 64;

    /**
     * The INSERT of {@code 2^i} rows at index i, up to {@link #INSERT_CHUNK}. A batch goes in as full chunks, then
     * its rest in falling powers of two (53 = 32 + 16 + 4 + 1), so that these few statements, kept prepared on the
     * writer connection, insert batches of every size: preparing an INSERT costs SQLite about 1.7 us per row of
     * it, which would be a good part of a record's cost if paid per batch.
     */
    private static final String[] INSERT_SQL = new String[Integer.numberOfTrailingZeros(INSERT_CHUNK) + 1];

    static {
        for (int i = 0; i < INSERT_SQL.length; i++) {
            INSERT_SQL[i] = insertSql(1 << i);
        }
    }

    /**
     * Wall time is summed per call in whole milliseconds, as {@link InvocationRecord#durationMillis()} counts it:
     * SQLite's integer division truncates towards zero, as {@code Duration.toMillis()} does.
     */
    static final String USAGE = """
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

    /** {@link #USAGE} of one function: reads invocations_by_function_start, (function_id, start_us). */
    static final String USAGE_OF_FUNCTION = USAGE + " AND function_id = :functionId";

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
     * Statements kept prepared on the writer connection for the life of the store: the caller neither closes them
     * nor uses them past its transaction.
     */
    @FunctionalInterface
    interface KeptStatements {

        /** @return the statement of this SQL, prepared the first time it is asked for */
        PreparedStatement get(String sql) throws SQLException;
    }

    /**
     * Inserts the records that are new and adds them to their per-minute aggregates, on the caller's transaction.
     *
     * <p>Retried batches are rare (the recorder resends a batch only after an append failed), so the first attempt
     * assumes every record is new and only counts what SQLite inserted ({@code careful} false). When the count
     * falls short, some record was stored before, and this throws {@link StoredBefore}: the caller rolls the
     * transaction back and runs the batch again with {@code careful} true, which first asks which ids are stored.
     * Asking in every append would cost each record a lookup; having SQLite say which rows it inserted
     * ({@code RETURNING}) cost about a microsecond per record, a quarter of the whole append (measured:
     * SqliteAppendThroughputMeasurement).
     *
     * @param kept    the writer's kept statements
     * @param careful whether to look up which ids are stored before inserting
     * @return the records that were new (neither stored before nor earlier in {@code rows}), in the order given
     * @throws StoredBefore when not careful and some record was stored before; nothing must be committed then
     * @throws SQLException when SQLite refuses a row, or (careful) ignores one that was not stored before; the
     *                      caller's transaction then rolls the batch back
     */
    static List<InvocationRecord> append(Handle h, KeptStatements kept, List<Row> rows, boolean careful)
            throws SQLException {
        // Of an id given twice, the first occurrence is the one stored: dropped here rather than left to SQLite, so
        // that SQLite's count of inserted rows says whether every row it was given was new.
        Map<String, Row> distinct = LinkedHashMap.newLinkedHashMap(rows.size());
        for (Row row : rows) {
            distinct.putIfAbsent(row.record().invocationId(), row);
        }
        List<Row> candidates = new ArrayList<>(distinct.values());
        List<Row> added = careful ? notStored(h.getConnection(), candidates) : candidates;
        int inserted = insert(kept, added);
        if (inserted != added.size()) {
            if (!careful) {
                throw new StoredBefore();
            }
            // None of these ids was stored (we asked, holding the write lock), so SQLite ignored a row for another
            // reason (see insertSql): that record would be lost if this committed.
            throw new SQLException("SQLite stored " + inserted + " of " + added.size()
                    + " new invocation records and ignored the others");
        }
        addToAggregates(kept, added);
        return added.stream().map(Row::record).toList();
    }

    /**
     * Thrown by a first, optimistic {@link #append} when some record of the batch was stored before: the batch must
     * be rolled back and appended again, carefully. Carries no stack trace: it is control flow, not an error.
     */
    static final class StoredBefore extends RuntimeException {

        StoredBefore() {
            super("some records of the batch were stored before", null, false, false);
        }
    }

    /**
     * @param rows how many rows the statement inserts, at least 1
     * @return an INSERT of that many rows that skips ids already stored
     */
    static String insertSql(int rows) {
        // OR IGNORE rather than ON CONFLICT (invocation_id) DO NOTHING, though both skip a stored id: DO NOTHING
        // leaves NOT NULL and CHECK failures to abort the statement, and a statement of many rows that may abort
        // half-way makes SQLite copy every page it touches into a statement journal first, so that it can undo
        // just that statement: that copying cost more than all the rest of the insert (measured: 13.2 against
        // 9.4 us of CPU per record, over 50 functions). What OR IGNORE might skip silently besides a stored id
        // (a row breaking a constraint; none can, given the values Row makes) is caught by counting: see append.
        String row = "(" + "?, ".repeat(INSERT_PARAMETERS - 1) + "?)";
        StringBuilder sql = new StringBuilder(64 + INSERT_COLUMNS.length() + rows * (row.length() + 2))
                .append("INSERT OR IGNORE INTO invocations (").append(INSERT_COLUMNS).append(") VALUES ");
        for (int i = 0; i < rows; i++) {
            sql.append(i == 0 ? "" : ", ").append(row);
        }
        return sql.toString();
    }

    /**
     * Inserts the rows: full chunks, then the rest in falling powers of two (see {@link #INSERT_SQL}).
     *
     * @return how many rows SQLite inserted: fewer than given when some id was stored before
     * @throws SQLException when SQLite refuses a row
     */
    private static int insert(KeptStatements kept, List<Row> rows) throws SQLException {
        // Plain JDBC with positional parameters: this is the hot path of metering, and JDBI's per-row named
        // binding cost more than SQLite's own work here (measured: see SqliteAppendThroughputMeasurement).
        int inserted = 0;
        for (int from = 0; from < rows.size(); ) {
            int size = Math.min(INSERT_CHUNK, Integer.highestOneBit(rows.size() - from));
            PreparedStatement ps = kept.get(INSERT_SQL[Integer.numberOfTrailingZeros(size)]);
            for (int i = 0; i < size; i++) {
                bind(ps, i * INSERT_PARAMETERS, rows.get(from + i));
            }
            inserted += ps.executeUpdate();
            from += size;
        }
        return inserted;
    }

    /** Ids looked up per query by {@link #notStored}. */
    private static final int LOOKUP_CHUNK = 500;

    /** @return the rows whose ids are not stored, in the order given */
    private static List<Row> notStored(Connection c, List<Row> rows) throws SQLException {
        Set<String> stored = new HashSet<>();
        for (int from = 0; from < rows.size(); from += LOOKUP_CHUNK) {
            List<Row> chunk = rows.subList(from, Math.min(rows.size(), from + LOOKUP_CHUNK));
            String sql = "SELECT invocation_id FROM invocations WHERE invocation_id IN ("
                    + "?, ".repeat(chunk.size() - 1) + "?)";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setString(i + 1, chunk.get(i).record().invocationId());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        stored.add(rs.getString(1));
                    }
                }
            }
        }
        return rows.stream().filter(r -> !stored.contains(r.record().invocationId())).toList();
    }

    /** Sets one row's parameters, the {@code offset + 1}th onwards, in the order of {@link #INSERT_COLUMNS}. */
    private static void bind(PreparedStatement ps, int offset, Row row) throws SQLException {
        InvocationRecord r = row.record();
        ps.setString(offset + 1, r.invocationId());
        ps.setString(offset + 2, r.tenant());
        ps.setString(offset + 3, r.functionId());
        ps.setString(offset + 4, r.functionName());
        ps.setLong(offset + 5, r.revision());
        ps.setLong(offset + 6, row.startUs());
        ps.setLong(offset + 7, row.endUs());
        ps.setLong(offset + 8, r.queueMicros());
        ps.setLong(offset + 9, r.phases().pullMicros());
        ps.setLong(offset + 10, r.phases().startMicros());
        ps.setLong(offset + 11, r.initMicros());
        ps.setLong(offset + 12, r.runMicros());
        ps.setInt(offset + 13, r.memoryMb());
        ps.setLong(offset + 14, r.cpuMicros());
        ps.setString(offset + 15, r.outcome().name());
        ps.setInt(offset + 16, r.exitCode());
        ps.setInt(offset + 17, r.cold() ? 1 : 0);
        ps.setLong(offset + 18, r.requestBytes());
        ps.setLong(offset + 19, r.responseBytes());
        ps.setLong(offset + 20, row.billedMs());
        ps.setLong(offset + 21, row.mbMs());
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

    private static void addToAggregates(KeptStatements kept, List<Row> added) throws SQLException {
        if (added.isEmpty()) {
            return;
        }
        Map<MinuteKey, MinuteSum> minutes = new LinkedHashMap<>();
        for (Row row : added) {
            InvocationRecord r = row.record();
            minutes.compute(new MinuteKey(r.tenant(), r.functionId(), row.minuteUs()), (k, sum) -> sum == null
                    ? new MinuteSum(row.usage(), r.functionName(), row.startUs()) : sum.plus(row));
        }
        PreparedStatement ps = kept.get(ADD_TO_MINUTE);
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

    /** One record, by the table's primary key. */
    static final String FIND = "SELECT " + COLUMNS + " FROM invocations WHERE invocation_id = :id";

    static Optional<InvocationRecord> find(Handle h, String invocationId) {
        return h.createQuery(FIND)
                .bind("id", invocationId)
                .map((rs, ctx) -> toRecord(rs))
                .findOne();
    }

    /** A function's records, newest first: the first page. */
    static final String PAGE_FIRST = "SELECT " + COLUMNS + """

             FROM invocations
            WHERE function_id = :functionId
            ORDER BY start_us DESC, invocation_id DESC
            LIMIT :rows""";

    /**
     * A function's records, newest first, after the cursor's. The row value is a range on
     * invocations_by_function_start, which holds (function_id, start_us, invocation_id): the read starts right at
     * the cursor and goes backwards along the index in the order asked, with no sort.
     */
    static final String PAGE_AFTER = "SELECT " + COLUMNS + """

             FROM invocations
            WHERE function_id = :functionId AND (start_us, invocation_id) < (:beforeStart, :beforeId)
            ORDER BY start_us DESC, invocation_id DESC
            LIMIT :rows""";

    /**
     * Keyset paging on (start, invocation id), newest first: a cursor is the position of the last record handed
     * out, so pages never overlap or skip, whatever arrives in between. A record stored later with a start before
     * the cursor's (a late batch) shows on a later page; one that starts after it, on a new first page.
     *
     * @param before where the previous page ended, {@code null} for the first page
     */
    static Page<InvocationRecord> page(Handle h, String functionId, int limit, Position before) {
        var query = h.createQuery(before == null ? PAGE_FIRST : PAGE_AFTER)
                .bind("functionId", functionId).bind("rows", (long) limit + 1);
        if (before != null) {
            query.bind("beforeStart", before.startUs()).bind("beforeId", before.invocationId());
        }
        // One extra row says whether there is a next page without a second query.
        List<InvocationRecord> rows = query.map((rs, ctx) -> toRecord(rs)).list();
        if (rows.size() <= limit) {
            return new Page<>(rows, null);
        }
        List<InvocationRecord> items = rows.subList(0, limit);
        InvocationRecord last = items.getLast();
        return new Page<>(List.copyOf(items),
                Cursors.encode(new Position(EpochMicros.of(last.start()), last.invocationId())));
    }

    static UsageSummary usage(Handle h, String functionId, Instant since, Instant until) {
        var query = h.createQuery(functionId == null ? USAGE : USAGE_OF_FUNCTION)
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

    /**
     * A record's place in the orders records are listed and exported in: by start, then by invocation id (as SQLite
     * compares text: by UTF-8 bytes, which is by code point). Both are columns of the indexes the reads go along
     * (a WITHOUT ROWID table's index ends in its primary key), so keyset paging on them needs no sort.
     *
     * @param startUs      the record's start, in epoch microseconds as stored
     * @param invocationId the record's id
     */
    record Position(long startUs, String invocationId) {
    }

    /** One page of an export, and where the next begins. */
    record ExportPage(List<InvocationRecord> records, Position last) {
    }

    /**
     * One page of the records a filter covers, after {@code after}, ordered by (start, invocation id): keyset
     * paging, so each page is one short read however far the export has got, and no record is passed twice or
     * skipped.
     *
     * <p>The range starts at {@code after}'s start and only records of that very start are filtered by id, so the
     * index (invocations_by_start, or invocations_by_function_start when a function is given; both end in
     * invocation_id) is read from the right place, in order, whatever the planner makes of the other conditions.
     *
     * @param after the last record of the previous page, {@code null} for the first page
     */
    static ExportPage exportPage(Handle h, RecordFilter filter, Position after, int limit) {
        long since = EpochMicros.ceilClamped(filter.since());
        if (after != null) {
            since = Math.max(since, after.startUs());
        }
        var query = bindTenantAndFunction(h.createQuery(exportSql(filter, after != null)), filter)
                .bind("since", since).bind("until", EpochMicros.ceilClamped(filter.until())).bind("rows", limit);
        if (after != null) {
            query.bind("afterStart", after.startUs()).bind("afterId", after.invocationId());
        }
        List<InvocationRecord> rows = query.map((rs, ctx) -> toRecord(rs)).list();
        if (rows.isEmpty()) {
            return new ExportPage(List.of(), after);
        }
        InvocationRecord last = rows.getLast();
        return new ExportPage(rows, new Position(EpochMicros.of(last.start()), last.invocationId()));
    }

    /** @return the SQL of {@link #exportPage}, with the conditions on tenant, function and position it needs */
    static String exportSql(RecordFilter filter, boolean afterAPosition) {
        return "SELECT " + COLUMNS + """

                 FROM invocations
                WHERE start_us >= :since AND start_us < :until"""
                + (afterAPosition ? " AND (start_us > :afterStart OR invocation_id > :afterId)" : "")
                + whereTenantAndFunction(filter) + """

                ORDER BY start_us, invocation_id
                LIMIT :rows""";
    }

    /**
     * The oldest records before a cutoff, at most a chunk of them. The subquery reads only invocations_by_start,
     * which holds the ids (the primary key); each is then deleted by a lookup on the table's key.
     */
    static final String PURGE_RECORDS = """
            DELETE FROM invocations WHERE invocation_id IN (
                SELECT invocation_id FROM invocations WHERE start_us < :cutoff ORDER BY start_us LIMIT :chunk)""";

    /** @return how many records were deleted: at most {@link #PURGE_CHUNK}, the oldest first */
    static int purgeRecordsChunk(Handle h, long cutoffUs) {
        return h.createUpdate(PURGE_RECORDS).bind("cutoff", cutoffUs).bind("chunk", PURGE_CHUNK).execute();
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

    /**
     * Page cursors: the {@link Position} of the last record on the previous page, as {@code <startUs>:<id>} in
     * URL-safe base64 without padding. Opaque, so that clients pass it back rather than build one; URL-safe, so it
     * goes into a query string as it is whatever characters the id has. Decoding is strict (canonical base64,
     * valid UTF-8, canonical decimal), so that garbage, or a cursor of the version-4 store (a decimal seq), is
     * refused rather than read as some position. A well-formed cursor that this store did not make is a position
     * all the same, and paging from it is harmless: it is no key to anything.
     */
    static final class Cursors {

        private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
        private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

        private Cursors() {
        }

        static String encode(Position position) {
            return ENCODER.encodeToString((position.startUs() + ":" + position.invocationId())
                    .getBytes(StandardCharsets.UTF_8));
        }

        /**
         * @param cursor a cursor, or {@code null} (or empty) for the first page
         * @return the position the page must stay below, {@code null} for the first page
         * @throws IllegalArgumentException when the cursor is not one this store made
         */
        static Position decode(String cursor) {
            if (cursor == null || cursor.isEmpty()) {
                return null;
            }
            try {
                byte[] bytes = DECODER.decode(cursor);
                if (ENCODER.encodeToString(bytes).equals(cursor)) {
                    String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
                    int colon = text.indexOf(':');
                    if (colon > 0) {
                        String start = text.substring(0, colon);
                        long startUs = Long.parseLong(start);
                        if (start.equals(Long.toString(startUs))) {
                            return new Position(startUs, text.substring(colon + 1));
                        }
                    }
                }
            } catch (IllegalArgumentException | CharacterCodingException e) {
                // not base64, not UTF-8, or not a number (NumberFormatException): fall through to the one message
            }
            throw new IllegalArgumentException("invalid page cursor '" + abbreviate(cursor)
                    + "': pass the nextCursor of the previous page, or none for the first page");
        }

        private static String abbreviate(String s) {
            return s.length() <= 40 ? s : s.substring(0, 37) + "...";
        }
    }
}
