package io.granda.core.spi;

import io.granda.core.Page;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventBacklog;
import io.granda.core.async.EventStatus;
import io.granda.core.async.NewEvent;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where asynchronous invocations (events) and the functions' {@link AsyncPolicy async policies} are kept: the
 * queue of Granda's event-triggered calls, with no broker besides the store itself.
 *
 * <p>Contract, checked by the testkit's {@code EventStoreContract}:
 * <ul>
 *   <li>{@link #accept} returns only once the event is durably stored: a store that survives a restart (SQLite)
 *       has it after a crash of the process.</li>
 *   <li>Every change moves an event along {@link EventStatus#allowedNext()} and only from the state the caller
 *       expects (compare-and-set), so two dispatchers, or a dispatcher and a re-drive, cannot both run or finish the
 *       same attempt.</li>
 *   <li>A final status is written once per attempt: a second {@link #finish} of the same attempt changes nothing.</li>
 * </ul>
 * Implementations are thread-safe.
 */
public interface EventStore {

    /**
     * Stores a new event, queued and due at once, unless its idempotency key matches an event of the same function
     * accepted within {@code idempotencyWindow}: then nothing is stored and that event is returned. A key older than
     * the window is free again.
     *
     * @param event             the event
     * @param idempotencyWindow how long a key stays taken
     * @return the stored event, or the earlier one with the same key
     */
    Accepted accept(NewEvent event, Duration idempotencyWindow);

    /** @return the event with this id */
    Optional<AsyncEvent> find(String id);

    /**
     * Lists events, newest accepted first.
     *
     * @param functionId a function id, or {@code null} for all
     * @param status     a status, or {@code null} for all
     * @param limit      page size, 1 to 1000
     * @param cursor     {@code null}, or the previous page's next cursor
     * @return one page
     */
    Page<AsyncEvent> list(String functionId, EventStatus status, int limit, String cursor);

    /** @return per function that has pending events (queued or failed), when its earliest one is due */
    Map<String, Instant> pendingByFunction();

    /**
     * Counts the events an operator watches, for gauges scraped every few seconds. A store answers from an index (or
     * running totals), not by reading every event: it is called at each scrape, however large the store has grown.
     *
     * <p>The default pages through {@link #list}, reading every queued, running, failed and dead event: correct, but
     * a store of any size overrides it.
     *
     * @return the number of {@link EventStatus#QUEUED}, {@link EventStatus#RUNNING}, {@link EventStatus#FAILED} and
     *         {@link EventStatus#DEAD} events, each a key, zeros included. {@link EventStatus#SUCCEEDED} is not
     *         counted (it is the bulk of the store until purged, and not worth a scan per scrape).
     * @throws io.granda.core.StoreException when the store cannot be read
     */
    default Map<EventStatus, Long> countByStatus() {
        Map<EventStatus, Long> counts = new java.util.EnumMap<>(EventStatus.class);
        for (EventStatus s : EventBacklog.COUNTED) {
            long n = 0;
            String cursor = null;
            do {
                Page<AsyncEvent> page = list(null, s, 1000, cursor);
                n += page.items().size();
                cursor = page.nextCursor();
            } while (cursor != null);
            counts.put(s, n);
        }
        return counts;
    }

    /**
     * The earliest due time among pending (queued or failed) events that are due: how long the most overdue event
     * has waited for a slot. Cheap like {@link #countByStatus()}. The default takes the minimum of
     * {@link #pendingByFunction()}, as costly as a dispatcher round.
     *
     * @param now the time
     * @return the earliest {@link AsyncEvent#nextAttemptAt()} of a pending event at {@code now} or earlier; empty
     *         when no pending event is due
     * @throws io.granda.core.StoreException when the store cannot be read
     */
    default Optional<Instant> oldestDue(Instant now) {
        return pendingByFunction().values().stream().filter(due -> !due.isAfter(now)).min(Instant::compareTo);
    }

    /**
     * @param functionId a function id
     * @param now        the time
     * @param limit      most events returned
     * @return pending events of the function due at {@code now} or earlier, earliest due first
     */
    List<AsyncEvent> due(String functionId, Instant now, int limit);

    /**
     * Starts an attempt: a pending event whose {@link AsyncEvent#attempts()} are still {@code expectedAttempts}
     * becomes running, its attempts one more.
     *
     * @param id               the event
     * @param expectedAttempts its {@link AsyncEvent#attempts()} as the caller saw it
     * @param now              the time
     * @return the running event, or empty when it was not pending with those attempts (someone else moved it)
     */
    Optional<AsyncEvent> start(String id, int expectedAttempts, Instant now);

    /**
     * Ends the running attempt number {@code attempt} of an event.
     *
     * @param id            the event
     * @param attempt       the attempt's number ({@link AsyncEvent#attempts()} once it started)
     * @param status        {@link EventStatus#SUCCEEDED}, {@link EventStatus#FAILED} (then {@code nextAttemptAt} is
     *                      set) or {@link EventStatus#DEAD}; FAILED and DEAD add one to
     *                      {@link AsyncEvent#failedAttempts()}
     * @param nextAttemptAt when the next attempt is due (FAILED only), else {@code null}
     * @param invocationId  the invocation id (metering record) of the attempt's call, or {@code null} when it made
     *                      none
     * @param result        what the attempt gave back, or {@code null} when it never got to run
     * @param error         why it failed, or {@code null}
     * @param now           the time
     * @return the event as it now is, or empty when it was not running that attempt (nothing changed)
     */
    Optional<AsyncEvent> finish(String id, int attempt, EventStatus status, Instant nextAttemptAt,
                                String invocationId, AsyncEvent.Result result, String error, Instant now);

    /**
     * Moves a pending event that must not run (too old, function deleted) straight to dead.
     *
     * @param id               the event
     * @param expectedAttempts its attempts as the caller saw it
     * @param error            why
     * @param now              the time
     * @return the dead event, or empty when it was not pending with those attempts
     */
    Optional<AsyncEvent> kill(String id, int expectedAttempts, String error, Instant now);

    /**
     * After a restart: every running event goes back to queued, due at once; its interrupted attempt is counted
     * in {@link AsyncEvent#interruptedAttempts()}. Call before any dispatcher of this store runs.
     *
     * @param now the time
     * @return how many events were running
     */
    int requeueInterrupted(Instant now);

    /**
     * Re-drives a dead event: queued again, due at once, its {@link AsyncEvent#failedAttempts()} back to zero
     * (earlier attempts stay in its {@link AsyncEvent#attempts()} total).
     *
     * @param id  the event
     * @param now the time
     * @return the queued event, or empty when there is no such dead event
     */
    Optional<AsyncEvent> redrive(String id, Instant now);

    /**
     * Notes what became of the event's callback.
     *
     * @param id     the event
     * @param status e.g. {@code delivered 200} or {@code failed: connection refused}
     */
    void callbackDone(String id, String status);

    /**
     * Deletes final events (succeeded, dead) that became final before {@code cutoff}.
     *
     * @return how many were deleted
     */
    long purgeFinishedBefore(Instant cutoff);

    /** @return the async policy of a function, when one was set */
    Optional<AsyncPolicy> policy(String functionId);

    /** Sets (replaces) a function's async policy. */
    void setPolicy(String functionId, AsyncPolicy policy);

    /** Forgets a function's async policy (its function was deleted). */
    void removePolicy(String functionId);

    /** @return every set policy, by function id */
    Map<String, AsyncPolicy> policies();
}
