package io.granda.store;

import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.UsageSummary;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.MeteringStore;
import io.granda.core.spi.HealthCheck;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link MeteringStore} of a {@link SqliteStore}: invocation records in the store's SQLite file. Get it from
 * {@link SqliteStore#metering()}. Thread-safe.
 *
 * <p>Records are listed in the order they were stored (newest stored first); a page cursor is the position of the
 * last record handed out, so paging never skips or repeats a record, whatever is appended meanwhile. Instants are
 * kept to the microsecond: sub-microsecond digits are dropped on the way in.
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
    public int append(List<InvocationRecord> records) {
        if (records.isEmpty()) {
            return 0;
        }
        // Converted before taking the writer, which then holds its lock only for SQLite's work.
        List<InvocationQueries.Row> rows = new ArrayList<>(records.size());
        for (InvocationRecord r : records) {
            rows.add(InvocationQueries.Row.of(r));
        }
        return store.write("append " + rows.size() + " invocation records", h -> InvocationQueries.insert(h, rows));
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
        long before = InvocationQueries.Cursors.decode(cursor);
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
