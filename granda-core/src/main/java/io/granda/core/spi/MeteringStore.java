package io.granda.core.spi;

import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.StoreException;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Append-only invocation records: the billing source of truth (metrics are only a view of it), and per-minute usage
 * aggregates kept from them.
 *
 * <p>Implementations must be thread-safe. Every method may throw {@link StoreException}; a failed
 * {@link #append(List)} writes none of its batch, so the caller can retry it whole.
 *
 * <p>Aggregates: every stored record is also added, in the same transaction, to the aggregate of its tenant, function
 * and UTC minute (by its start). Usage series are answered from the aggregates, so they outlive the raw records
 * ({@link #purgeRecordsBefore(Instant)}), and a series summed over a window equals {@link #usage} over the same
 * window when the window's ends are whole minutes and no record in it was purged.
 */
public interface MeteringStore {

    /**
     * Appends records, and adds them to their aggregates, in one transaction. A record whose invocation id is already
     * stored (or appears twice in the batch) is ignored, so a retried batch never counts a call twice.
     *
     * @param records records to append, in any order
     * @return the records that were new, in the order given
     */
    List<InvocationRecord> append(List<InvocationRecord> records);

    /**
     * @param invocationId an invocation id
     * @return the record, empty when none is stored under that id
     */
    Optional<InvocationRecord> find(String invocationId);

    /**
     * Lists a function's records, newest first: by start, latest first, and records that started at the same
     * instant by invocation id, greatest first. Ids are compared by Unicode code point, which is how SQLite compares
     * text (by its UTF-8 bytes); for Granda's time-ordered ids that is their natural order. The order is of what was
     * recorded, not of arrival, so every store gives the same order for the same records.
     *
     * <p>The cursor stands for the position of the last record handed out, so pages never overlap or skip a record,
     * whatever is appended meanwhile: a record appended later that starts after the cursor's is on a new first page,
     * one that starts before it (a late batch) on a later page.
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

    /**
     * Usage over a window, bucket by bucket, from the per-minute aggregates. The window is widened to whole buckets:
     * {@code since} down to its bucket's start, {@code until} up to the next bucket's start.
     *
     * @param filter      tenant, function and window
     * @param granularity bucket width
     * @return the buckets that have calls, oldest first
     */
    List<UsageBucket> usageSeries(RecordFilter filter, Granularity granularity);

    /**
     * Usage over a window per function, from the per-minute aggregates (window widened to whole minutes).
     *
     * @param filter tenant, function and window
     * @return one entry per function that had calls, by tenant then function name
     */
    List<FunctionUsage> usageByFunction(RecordFilter filter);

    /**
     * Streams the raw records a filter covers, oldest start first (records with the same start by invocation id,
     * least first, compared as {@link #invocations} compares them), for export. The sink runs on the caller's thread
     * while the store reads; it must not call back into the store.
     *
     * @param filter which records
     * @param sink   receives each record
     * @return how many records were passed
     */
    long exportRecords(RecordFilter filter, Consumer<InvocationRecord> sink);

    /**
     * Deletes raw records that started before an instant; their aggregates are kept.
     *
     * @param cutoff records that started before this go
     * @return how many were deleted
     */
    long purgeRecordsBefore(Instant cutoff);

    /**
     * Deletes the per-minute aggregates of minutes that ended by an instant (a minute that holds the cutoff stays).
     *
     * @param cutoff aggregates of minutes wholly before it go
     * @return how many aggregate rows were deleted
     */
    long purgeAggregatesBefore(Instant cutoff);
}
