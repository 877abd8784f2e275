package io.granda.store;

import io.granda.core.InvocationRequest;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventBacklog;
import io.granda.core.async.EventStatus;
import io.granda.core.async.NewEvent;
import io.granda.core.spi.EventStore;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The {@link EventStore} of a {@link SqliteStore}: events and async policies in the store's SQLite file. Get it
 * from {@link SqliteStore#events()}. Thread-safe.
 *
 * <p><b>Accepting.</b> An accepted event is committed with {@code synchronous=FULL}: the WAL is synced to the disk
 * before {@link #accept} returns, so an event whose sender got its 202 survives a crash of the process and of the
 * machine. Syncing costs a disk flush per commit, so accepts are committed in groups: each caller queues its event
 * and takes the writer; whoever gets it first commits every queued event in one transaction, and the callers after
 * it find theirs done. Under load a flush is shared by many events; alone, an accept costs one flush.
 *
 * <p><b>Moving events.</b> Every other change is one UPDATE whose WHERE clause is the state the caller expects
 * (status, attempts), so a change that lost a race changes nothing and says so. They commit with the store's usual
 * setting: a crash of the process loses none of them.
 */
public final class SqliteEventStore implements EventStore {

    private static final String COLUMNS = """
            id, tenant, function_id, function_name, status, source, method, path, query, headers, body,
            idempotency_key, callback_url, accepted_at_us, attempts, interrupted_attempts, failed_attempts,
            next_attempt_us, started_at_us, finished_at_us, last_invocation_id, result_outcome, result_status,
            result_content_type, result_body, result_truncated, result_log, error, callback_status""";

    private final SqliteStore store;
    private final ConcurrentLinkedQueue<PendingAccept> accepts = new ConcurrentLinkedQueue<>();

    SqliteEventStore(SqliteStore store) {
        this.store = store;
    }

    /** An accept waiting for its group commit; its fields are written by the committer, read after {@link #done}. */
    private static final class PendingAccept {
        final NewEvent event;
        final Duration window;
        volatile Accepted result;
        volatile RuntimeException failure;
        /** Set by the committer once its transaction committed (or failed); the waiter reads result after it. */
        volatile boolean done;
        Accepted tentative;

        PendingAccept(NewEvent event, Duration window) {
            this.event = event;
            this.window = window;
        }
    }

    @Override
    public Accepted accept(NewEvent event, Duration idempotencyWindow) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(idempotencyWindow, "idempotencyWindow");
        PendingAccept mine = new PendingAccept(event, idempotencyWindow);
        accepts.add(mine);
        while (!mine.done) {
            List<PendingAccept> group = new ArrayList<>();
            try {
                store.writeSynced("accept events", h -> {
                    group.clear();
                    for (PendingAccept p; (p = accepts.poll()) != null; ) {
                        group.add(p);
                    }
                    // Within the group, a key seen earlier in it is a duplicate of that event.
                    Map<List<String>, AsyncEvent> groupKeys = new HashMap<>();
                    for (PendingAccept p : group) {
                        p.tentative = insert(h, p.event, p.window, groupKeys);
                    }
                    return null;
                });
                for (PendingAccept p : group) {
                    p.result = p.tentative;
                    p.done = true;
                }
            } catch (RuntimeException e) {
                for (PendingAccept p : group) {
                    p.failure = e;
                    p.done = true;
                }
                if (!group.contains(mine) && !mine.done) {
                    continue; // someone else's group failed before taking mine; try mine again
                }
            }
        }
        if (mine.failure != null) {
            throw mine.failure;
        }
        return mine.result;
    }

    private static Accepted insert(Handle h, NewEvent e, Duration window, Map<List<String>, AsyncEvent> groupKeys) {
        long acceptedUs = EpochMicros.of(e.acceptedAt());
        if (e.idempotencyKey() != null) {
            List<String> key = List.of(e.functionId(), e.idempotencyKey());
            AsyncEvent inGroup = groupKeys.get(key);
            if (inGroup != null) {
                return new Accepted(inGroup, true);
            }
            Optional<AsyncEvent> before = h.createQuery("SELECT " + COLUMNS
                            + " FROM async_events WHERE function_id = :f AND idempotency_key = :k")
                    .bind("f", e.functionId()).bind("k", e.idempotencyKey())
                    .map((rs, ctx) -> event(rs)).findOne();
            if (before.isPresent()) {
                if (before.get().acceptedAt().plus(window).isAfter(e.acceptedAt())) {
                    return new Accepted(before.get(), true);
                }
                // The key's window is over: it is free again, for this event.
                h.createUpdate("UPDATE async_events SET idempotency_key = NULL WHERE id = :id")
                        .bind("id", before.get().id()).execute();
            }
        }
        InvocationRequest r = e.request();
        h.createUpdate("INSERT INTO async_events (" + COLUMNS + ") VALUES (:id, :tenant, :functionId, :functionName,"
                        + " 'QUEUED', :source, :method, :path, :query, :headers, :body, :key, :callback, :accepted,"
                        + " 0, 0, 0, :accepted, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
                .bind("id", e.id()).bind("tenant", e.tenant()).bind("functionId", e.functionId())
                .bind("functionName", e.functionName()).bind("source", e.source()).bind("method", r.method())
                .bind("path", r.path()).bind("query", r.query()).bind("headers", HeaderLines.encode(r.headers()))
                .bind("body", r.body()).bind("key", e.idempotencyKey()).bind("callback", e.callbackUrl())
                .bind("accepted", acceptedUs)
                .execute();
        AsyncEvent stored = new NewEvent(e.id(), e.tenant(), e.functionId(), e.functionName(), e.source(),
                e.request(), e.idempotencyKey(), e.callbackUrl(), EpochMicros.toInstant(acceptedUs)).queued();
        if (e.idempotencyKey() != null) {
            groupKeys.put(List.of(e.functionId(), e.idempotencyKey()), stored);
        }
        return new Accepted(stored, false);
    }

    @Override
    public Optional<AsyncEvent> find(String id) {
        return store.read("find event", h -> h.createQuery("SELECT " + COLUMNS + " FROM async_events WHERE id = :id")
                .bind("id", id).map((rs, ctx) -> event(rs)).findOne());
    }

    @Override
    public Page<AsyncEvent> list(String functionId, EventStatus status, int limit, String cursor) {
        if (limit < 1 || limit > 1000) {
            throw new IllegalArgumentException("limit must be 1 to 1000, was " + limit);
        }
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM async_events WHERE 1 = 1");
        if (functionId != null) {
            sql.append(" AND function_id = :f");
        }
        if (status != null) {
            sql.append(" AND status = :s");
        }
        if (cursor != null) {
            sql.append(" AND id < :cursor");
        }
        sql.append(" ORDER BY id DESC LIMIT :n");
        List<AsyncEvent> rows = store.read("list events", h -> {
            Query q = h.createQuery(sql.toString()).bind("n", limit + 1);
            if (functionId != null) {
                q.bind("f", functionId);
            }
            if (status != null) {
                q.bind("s", status.name());
            }
            if (cursor != null) {
                q.bind("cursor", cursor);
            }
            return q.map((rs, ctx) -> event(rs)).list();
        });
        if (rows.size() > limit) {
            List<AsyncEvent> page = rows.subList(0, limit);
            return new Page<>(page, page.getLast().id());
        }
        return new Page<>(rows, null);
    }

    @Override
    public Map<String, Instant> pendingByFunction() {
        return store.read("find pending events", h -> {
            Map<String, Instant> due = new LinkedHashMap<>();
            h.createQuery("SELECT function_id, MIN(next_attempt_us) AS due FROM async_events"
                            + " WHERE status IN ('QUEUED', 'FAILED') GROUP BY function_id")
                    .map((rs, ctx) -> Map.entry(rs.getString(1), EpochMicros.toInstant(rs.getLong(2))))
                    .forEach(e -> due.put(e.getKey(), e.getValue()));
            return due;
        });
    }

    /**
     * Counts along {@code async_events_by_status} (V9), which holds every event but the succeeded ones: a covering
     * index scan of the counted statuses, never a read of the table. The {@code status IN (...)} term is the
     * index's own WHERE clause, word for word, which is what lets SQLite use a partial index.
     */
    static final String COUNT_BY_STATUS = "SELECT status, COUNT(*) FROM async_events"
            + " WHERE status IN ('QUEUED', 'RUNNING', 'FAILED', 'DEAD') GROUP BY status";

    /** The first entry of each pending status in {@code async_events_by_status}: two index seeks. */
    static final String OLDEST_DUE = """
            SELECT (SELECT MIN(next_attempt_us) FROM async_events
                    WHERE status IN ('QUEUED', 'RUNNING', 'FAILED', 'DEAD') AND status = 'QUEUED'),
                   (SELECT MIN(next_attempt_us) FROM async_events
                    WHERE status IN ('QUEUED', 'RUNNING', 'FAILED', 'DEAD') AND status = 'FAILED')""";

    @Override
    public Map<EventStatus, Long> countByStatus() {
        return store.read("count events by status", h -> {
            Map<EventStatus, Long> counts = new EnumMap<>(EventStatus.class);
            for (EventStatus s : EventBacklog.COUNTED) {
                counts.put(s, 0L);
            }
            h.createQuery(COUNT_BY_STATUS)
                    .map((rs, ctx) -> Map.entry(EventStatus.valueOf(rs.getString(1)), rs.getLong(2)))
                    .forEach(e -> counts.put(e.getKey(), e.getValue()));
            return counts;
        });
    }

    @Override
    public Optional<Instant> oldestDue(Instant now) {
        Optional<Long> earliest = store.read("find the oldest due event", h -> h.createQuery(OLDEST_DUE)
                .map((rs, ctx) -> {
                    long queued = rs.getLong(1);
                    boolean noQueued = rs.wasNull();
                    long failed = rs.getLong(2);
                    boolean noFailed = rs.wasNull();
                    if (noQueued && noFailed) {
                        return Optional.<Long>empty();
                    }
                    return Optional.of(noQueued ? failed : noFailed ? queued : Math.min(queued, failed));
                }).one());
        return earliest.map(EpochMicros::toInstant).filter(due -> !due.isAfter(now));
    }

    @Override
    public List<AsyncEvent> due(String functionId, Instant now, int limit) {
        return store.read("find due events", h -> h.createQuery("SELECT " + COLUMNS + " FROM async_events"
                        + " WHERE function_id = :f AND status IN ('QUEUED', 'FAILED') AND next_attempt_us <= :now"
                        + " ORDER BY next_attempt_us, id LIMIT :n")
                .bind("f", functionId).bind("now", EpochMicros.floorClamped(now)).bind("n", limit)
                .map((rs, ctx) -> event(rs)).list());
    }

    @Override
    public Optional<AsyncEvent> start(String id, int expectedAttempts, Instant now) {
        return change("start an event", id, """
                UPDATE async_events SET status = 'RUNNING', attempts = attempts + 1, next_attempt_us = NULL,
                       started_at_us = :now
                WHERE id = :id AND status IN ('QUEUED', 'FAILED') AND attempts = :expected""",
                Map.of("now", EpochMicros.of(now), "expected", expectedAttempts));
    }

    @Override
    public Optional<AsyncEvent> finish(String id, int attempt, EventStatus status, Instant nextAttemptAt,
                                       String invocationId, AsyncEvent.Result result, String error, Instant now) {
        EventStatus.checkAttemptEnd(status, nextAttemptAt);
        Map<String, Object> p = new HashMap<>();
        p.put("status", status.name());
        p.put("next", nextAttemptAt == null ? null : EpochMicros.of(nextAttemptAt));
        p.put("finished", status.isFinal() ? EpochMicros.of(now) : null);
        p.put("failed", status == EventStatus.SUCCEEDED ? 0 : 1);
        p.put("invocation", invocationId);
        p.put("hasResult", result == null ? 0 : 1);
        p.put("outcome", result == null ? null : result.outcome().name());
        p.put("resultStatus", result == null ? null : result.httpStatus());
        p.put("contentType", result == null ? null : result.contentType());
        p.put("body", result == null ? null : result.body());
        p.put("truncated", result == null ? null : result.truncated() ? 1 : 0);
        p.put("log", result == null ? null : result.logTail());
        p.put("error", error);
        p.put("attempt", attempt);
        return change("finish an event attempt", id, """
                UPDATE async_events SET status = :status, next_attempt_us = :next, finished_at_us = :finished,
                       failed_attempts = failed_attempts + :failed,
                       last_invocation_id = COALESCE(:invocation, last_invocation_id),
                       result_outcome = CASE WHEN :hasResult = 1 THEN :outcome ELSE result_outcome END,
                       result_status = CASE WHEN :hasResult = 1 THEN :resultStatus ELSE result_status END,
                       result_content_type = CASE WHEN :hasResult = 1 THEN :contentType ELSE result_content_type END,
                       result_body = CASE WHEN :hasResult = 1 THEN :body ELSE result_body END,
                       result_truncated = CASE WHEN :hasResult = 1 THEN :truncated ELSE result_truncated END,
                       result_log = CASE WHEN :hasResult = 1 THEN :log ELSE result_log END,
                       error = :error
                WHERE id = :id AND status = 'RUNNING' AND attempts = :attempt""", p);
    }

    @Override
    public Optional<AsyncEvent> kill(String id, int expectedAttempts, String error, Instant now) {
        Map<String, Object> p = new HashMap<>();
        p.put("now", EpochMicros.of(now));
        p.put("error", error);
        p.put("expected", expectedAttempts);
        return change("kill an event", id, """
                UPDATE async_events SET status = 'DEAD', next_attempt_us = NULL, finished_at_us = :now, error = :error
                WHERE id = :id AND status IN ('QUEUED', 'FAILED') AND attempts = :expected""", p);
    }

    @Override
    public int requeueInterrupted(Instant now) {
        return store.write("requeue interrupted events", h -> h.createUpdate("""
                        UPDATE async_events SET status = 'QUEUED', next_attempt_us = :now,
                               interrupted_attempts = interrupted_attempts + 1
                        WHERE status = 'RUNNING'""")
                .bind("now", EpochMicros.of(now)).execute());
    }

    @Override
    public Optional<AsyncEvent> redrive(String id, Instant now) {
        return change("re-drive an event", id, """
                UPDATE async_events SET status = 'QUEUED', next_attempt_us = :now, finished_at_us = NULL,
                       failed_attempts = 0
                WHERE id = :id AND status = 'DEAD'""", Map.of("now", EpochMicros.of(now)));
    }

    @Override
    public void callbackDone(String id, String status) {
        store.write("note an event's callback", h -> h.createUpdate(
                        "UPDATE async_events SET callback_status = :s WHERE id = :id")
                .bind("s", status).bind("id", id).execute());
    }

    @Override
    public long purgeFinishedBefore(Instant cutoff) {
        long cutoffUs = EpochMicros.floorClamped(cutoff);
        long total = 0;
        int n;
        do {
            // In chunks, so that accepts waiting for the writer wait for one chunk at most.
            n = store.write("purge finished events", h -> h.createUpdate("""
                            DELETE FROM async_events WHERE id IN (
                                SELECT id FROM async_events WHERE finished_at_us < :cutoff
                                AND status IN ('SUCCEEDED', 'DEAD') LIMIT 5000)""")
                    .bind("cutoff", cutoffUs).execute());
            total += n;
        } while (n == 5000);
        return total;
    }

    @Override
    public Optional<AsyncPolicy> policy(String functionId) {
        return store.read("read an async policy", h -> h.createQuery(
                        "SELECT * FROM async_policies WHERE function_id = :f")
                .bind("f", functionId).map((rs, ctx) -> policy(rs)).findOne());
    }

    @Override
    public void setPolicy(String functionId, AsyncPolicy p) {
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(p, "policy");
        store.write("set an async policy", h -> h.createUpdate("""
                        INSERT INTO async_policies (function_id, max_attempts, initial_backoff_ms, max_backoff_ms,
                                                    max_event_age_s, concurrency, schedule, callback_url)
                        VALUES (:f, :attempts, :initial, :max, :age, :concurrency, :schedule, :callback)
                        ON CONFLICT (function_id) DO UPDATE SET max_attempts = excluded.max_attempts,
                            initial_backoff_ms = excluded.initial_backoff_ms, max_backoff_ms = excluded.max_backoff_ms,
                            max_event_age_s = excluded.max_event_age_s, concurrency = excluded.concurrency,
                            schedule = excluded.schedule, callback_url = excluded.callback_url""")
                .bind("f", functionId).bind("attempts", p.maxAttempts()).bind("initial", p.initialBackoff().toMillis())
                .bind("max", p.maxBackoff().toMillis()).bind("age", p.maxEventAge().toSeconds())
                .bind("concurrency", p.concurrency()).bind("schedule", p.schedule())
                .bind("callback", p.callbackUrl()).execute());
    }

    @Override
    public void removePolicy(String functionId) {
        store.write("remove an async policy", h -> h.createUpdate(
                "DELETE FROM async_policies WHERE function_id = :f").bind("f", functionId).execute());
    }

    @Override
    public Map<String, AsyncPolicy> policies() {
        return store.read("read async policies", h -> {
            Map<String, AsyncPolicy> all = new HashMap<>();
            h.createQuery("SELECT * FROM async_policies").map((rs, ctx) -> Map.entry(rs.getString("function_id"),
                    policy(rs))).forEach(e -> all.put(e.getKey(), e.getValue()));
            return all;
        });
    }

    /** Runs one conditional UPDATE of an event and reads it back in the same transaction when it changed. */
    private Optional<AsyncEvent> change(String action, String id, String sql, Map<String, Object> params) {
        return store.write(action, h -> {
            var update = h.createUpdate(sql).bind("id", id);
            params.forEach(update::bind);
            if (update.execute() == 0) {
                return Optional.<AsyncEvent>empty();
            }
            return h.createQuery("SELECT " + COLUMNS + " FROM async_events WHERE id = :id").bind("id", id)
                    .map((rs, ctx) -> event(rs)).findOne();
        });
    }

    private static AsyncPolicy policy(ResultSet rs) throws SQLException {
        return new AsyncPolicy(rs.getInt("max_attempts"), Duration.ofMillis(rs.getLong("initial_backoff_ms")),
                Duration.ofMillis(rs.getLong("max_backoff_ms")), Duration.ofSeconds(rs.getLong("max_event_age_s")),
                rs.getInt("concurrency"), rs.getString("schedule"), rs.getString("callback_url"));
    }

    private static AsyncEvent event(ResultSet rs) throws SQLException {
        InvocationRequest request = new InvocationRequest(rs.getString("method"), rs.getString("path"),
                rs.getString("query"), HeaderLines.decode(rs.getString("headers")), rs.getBytes("body"));
        String outcome = rs.getString("result_outcome");
        AsyncEvent.Result result = outcome == null ? null : new AsyncEvent.Result(Outcome.valueOf(outcome),
                rs.getInt("result_status"), rs.getString("result_content_type"), rs.getBytes("result_body"),
                rs.getInt("result_truncated") == 1, rs.getString("result_log"));
        return new AsyncEvent(rs.getString("id"), rs.getString("tenant"), rs.getString("function_id"),
                rs.getString("function_name"), EventStatus.valueOf(rs.getString("status")), rs.getString("source"),
                request, rs.getString("idempotency_key"), rs.getString("callback_url"),
                EpochMicros.toInstant(rs.getLong("accepted_at_us")), rs.getInt("attempts"),
                rs.getInt("interrupted_attempts"), rs.getInt("failed_attempts"), instant(rs, "next_attempt_us"),
                instant(rs, "started_at_us"), instant(rs, "finished_at_us"), rs.getString("last_invocation_id"),
                result, rs.getString("error"), rs.getString("callback_status"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : EpochMicros.toInstant(v);
    }

    /** Headers as text: one {@code name: value} line per value, in order. */
    static final class HeaderLines {

        private HeaderLines() {
        }

        static String encode(Map<String, List<String>> headers) {
            StringBuilder s = new StringBuilder();
            headers.forEach((name, values) -> values.forEach(v -> s.append(name).append(": ")
                    .append(v.replace('\r', ' ').replace('\n', ' ')).append('\n')));
            return s.toString();
        }

        static Map<String, List<String>> decode(String text) {
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                int colon = line.indexOf(": ");
                if (colon > 0) {
                    headers.computeIfAbsent(line.substring(0, colon), k -> new ArrayList<>())
                            .add(line.substring(colon + 2));
                }
            }
            return headers;
        }
    }
}
