package io.granda.core.spi;

import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.StoreException;
import io.granda.core.UsageSummary;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Append-only invocation records: the billing source of truth (metrics are only a view of it).
 *
 * <p>Implementations must be thread-safe. Every method may throw {@link StoreException}; a failed
 * {@link #append(List)} writes none of its batch, so the caller can retry it whole.
 */
public interface MeteringStore {

    /**
     * Appends records in one transaction. A record whose invocation id is already stored is ignored, so a retried
     * batch never counts a call twice.
     *
     * @param records records to append, in any order
     * @return how many records were new
     */
    int append(List<InvocationRecord> records);

    /**
     * @param invocationId an invocation id
     * @return the record, empty when none is stored under that id
     */
    Optional<InvocationRecord> find(String invocationId);

    /**
     * Lists a function's records, newest first.
     *
     * @param functionId the function's stable id
     * @param limit      page size, at least 1
     * @param cursor     {@code null} for the first page, else the {@link Page#nextCursor()} of the previous page
     * @return one page of records
     * @throws IllegalArgumentException when the cursor was not made by this store
     */
    Page<InvocationRecord> invocations(String functionId, int limit, String cursor);

    /**
     * Totals over the records whose start lies in {@code [since, until)}.
     *
     * @param functionId a function's stable id, or {@code null} for every function
     * @param since      inclusive lower bound on the call's start
     * @param until      exclusive upper bound on the call's start
     * @return the totals, {@link UsageSummary#EMPTY} when there were no calls
     */
    UsageSummary usage(String functionId, Instant since, Instant until);
}
