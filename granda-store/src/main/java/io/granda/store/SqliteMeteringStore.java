package io.granda.store;

import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.MeteringStore;
import io.granda.core.spi.HealthCheck;
import org.jdbi.v3.core.HandleCallback;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The {@link MeteringStore} of a {@link SqliteStore}: invocation records, and their per-minute usage aggregates, in
 * the store's SQLite file. Get it from {@link SqliteStore#metering()}. Thread-safe.
 *
 * <p>A function's records are listed newest start first, records that started in the same microsecond by
 * invocation id (descending); export goes the other way. A page cursor is the (start, id) of the last record handed
 * out, so paging never skips or repeats a record, whatever is appended meanwhile. Instants are kept to the
 * microsecond: sub-microsecond digits are dropped on the way in, and usage (wall time included) is summed over what
 * is stored.
 *
 * <p><b>Appends.</b> The {@code invocations} table is keyed by invocation id (WITHOUT ROWID, schema version 5), so
 * the table is its own duplicate check, and records are inserted 64 to a statement with {@code INSERT OR IGNORE}.
 * When SQLite inserts them all, all were new; when it inserts fewer (a retried batch), the transaction is rolled
 * back and the batch appended again, asking first which ids are stored. The new records are added to the
 * {@code usage_minutes} rows of their tenant, function and UTC minute, in the same transaction on the store's single
 * writer: a record is counted in its aggregate once, or, if the append fails, not at all.
 *
 * <p><b>Long operations.</b> {@link #exportRecords} reads a page of records at a time on a reader connection and
 * hands them to the sink with no connection held, so a slow sink holds up nobody; it is not a snapshot, but no
 * record is passed twice, and every record stored before the export began and not purged meanwhile is passed. Purges
 * delete 10,000 rows per transaction, so appends queued on the writer wait for one chunk at most.
 *
 * <p><b>Idempotency after a purge.</b> Duplicates are recognised by the stored invocation id, so a record whose
 * original was already purged would be stored, and counted, again; the in-memory store remembers every id it ever
 * saw and would not. Records are purged only long after the recorder's retries of them are over, so this matters
 * only to a writer that replays records older than the record retention.
 */
public final class SqliteMeteringStore implements MeteringStore, HealthCheck {

    private final SqliteStore store;

    SqliteMeteringStore(SqliteStore store) {
        this.store = store;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when a record cannot be stored (an instant more than 292,000 years from
     *                                  1970, or billed memory time beyond a long); nothing of the batch is written
     */
    @Override
    public List<InvocationRecord> append(List<InvocationRecord> records) {
        if (records.isEmpty()) {
            return List.of();
        }
        // Converted before taking the writer, which then holds its lock only for SQLite's work.
        List<InvocationQueries.Row> rows = new ArrayList<>(records.size());
        for (InvocationRecord r : records) {
            rows.add(InvocationQueries.Row.of(r));
        }
        String action = "append " + rows.size() + " invocation records";
        try {
            return store.write(action, h -> InvocationQueries.append(h, store::keptStatement, rows, false));
        } catch (InvocationQueries.StoredBefore e) {
            // A retried batch: rolled back whole, now appended again asking which ids are stored. Another append
            // may have run in between; what matters is what is stored when this one runs.
            return store.write(action, h -> InvocationQueries.append(h, store::keptStatement, rows, true));
        }
    }

    @Override
    public Optional<InvocationRecord> find(String invocationId) {
        return store.read("find invocation " + invocationId, h -> InvocationQueries.find(h, invocationId));
    }

    @Override
    public Page<InvocationRecord> invocations(String functionId, int limit, String cursor) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
        InvocationQueries.Position before = InvocationQueries.Cursors.decode(cursor);
        return store.read("list invocations of function " + functionId,
                h -> InvocationQueries.page(h, functionId, limit, before));
    }

    @Override
    public UsageSummary usage(String functionId, Instant since, Instant until) {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(until, "until");
        return store.read("sum usage", h -> InvocationQueries.usage(h, functionId, since, until));
    }

    @Override
    public List<UsageBucket> usageSeries(RecordFilter filter, Granularity granularity) {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(granularity, "granularity");
        return store.read("read the " + granularity.apiName() + " usage series",
                h -> InvocationQueries.series(h, filter, granularity));
    }

    @Override
    public List<FunctionUsage> usageByFunction(RecordFilter filter) {
        Objects.requireNonNull(filter, "filter");
        return store.read("read usage by function", h -> InvocationQueries.byFunction(h, filter));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads 1,000 records at a time, each page on a reader connection that is given back before the sink sees
     * the page. What the sink throws ends the export and reaches the caller.
     */
    @Override
    public long exportRecords(RecordFilter filter, Consumer<InvocationRecord> sink) {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(sink, "sink");
        long passed = 0;
        InvocationQueries.Position after = null;
        while (true) {
            InvocationQueries.Position from = after;
            InvocationQueries.ExportPage page = store.read("export invocation records",
                    h -> InvocationQueries.exportPage(h, filter, from, InvocationQueries.EXPORT_PAGE));
            for (InvocationRecord r : page.records()) {
                sink.accept(r);
                passed++;
            }
            if (page.records().size() < InvocationQueries.EXPORT_PAGE) {
                return passed;
            }
            after = page.last();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Deletes in transactions of 10,000 records, oldest first; a failure part-way leaves the chunks already
     * deleted deleted, and running the purge again finishes it.
     */
    @Override
    public long purgeRecordsBefore(Instant cutoff) {
        long cutoffUs = EpochMicros.ceilClamped(Objects.requireNonNull(cutoff, "cutoff"));
        return purgeInChunks("purge invocation records that started before " + cutoff,
                h -> InvocationQueries.purgeRecordsChunk(h, cutoffUs));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Deletes in transactions of 10,000 rows, oldest minute first; a failure part-way leaves the chunks
     * already deleted deleted, and running the purge again finishes it.
     */
    @Override
    public long purgeAggregatesBefore(Instant cutoff) {
        long cutoffMinuteUs = InvocationQueries.minuteFloor(Objects.requireNonNull(cutoff, "cutoff"));
        return purgeInChunks("purge usage aggregates of minutes before " + cutoff,
                h -> InvocationQueries.purgeAggregatesChunk(h, cutoffMinuteUs));
    }

    /** Runs a chunked delete, one write transaction per chunk, until a chunk comes back short. */
    private long purgeInChunks(String what, HandleCallback<Integer, SQLException> deleteChunk) {
        long purged = 0;
        int chunk;
        do {
            chunk = store.write(what, deleteChunk);
            purged += chunk;
        } while (chunk == InvocationQueries.PURGE_CHUNK);
        return purged;
    }

    @Override
    public String toString() {
        return "SqliteMeteringStore[" + store.path() + "]";
    }

    @Override
    public String healthName() {
        return "store";
    }

    /** Checks that the store can still write; see {@link SqliteStore#health()}. */
    @Override
    public ComponentHealth health() {
        return store.health();
    }
}
