package io.granda.core.memory;

import io.granda.core.Page;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventBacklog;
import io.granda.core.async.EventStatus;
import io.granda.core.async.NewEvent;
import io.granda.core.spi.EventStore;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * An {@link EventStore} in memory: events last as long as the process. For tests and for embedders that accept
 * losing queued events on a restart. Thread-safe: one lock, as every operation is short.
 */
public final class InMemoryEventStore implements EventStore {

    private final ReentrantLock lock = new ReentrantLock();
    /** By id; ids are time-ordered, so the map's order is acceptance order. */
    private final TreeMap<String, AsyncEvent> events = new TreeMap<>();
    /** (function id, idempotency key) to event id. */
    private final Map<List<String>, String> keys = new HashMap<>();
    private final Map<String, AsyncPolicy> policies = new HashMap<>();

    @Override
    public Accepted accept(NewEvent event, Duration idempotencyWindow) {
        Objects.requireNonNull(event, "event");
        lock.lock();
        try {
            if (event.idempotencyKey() != null) {
                List<String> key = List.of(event.functionId(), event.idempotencyKey());
                String earlier = keys.get(key);
                AsyncEvent before = earlier == null ? null : events.get(earlier);
                if (before != null && before.acceptedAt().plus(idempotencyWindow).isAfter(event.acceptedAt())) {
                    return new Accepted(before, true);
                }
                keys.put(key, event.id());
            }
            if (events.containsKey(event.id())) {
                throw new IllegalArgumentException("an event with id " + event.id() + " exists");
            }
            AsyncEvent queued = event.queued();
            events.put(queued.id(), queued);
            return new Accepted(queued, false);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<AsyncEvent> find(String id) {
        lock.lock();
        try {
            return Optional.ofNullable(events.get(id));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Page<AsyncEvent> list(String functionId, EventStatus status, int limit, String cursor) {
        if (limit < 1 || limit > 1000) {
            throw new IllegalArgumentException("limit must be 1 to 1000, was " + limit);
        }
        lock.lock();
        try {
            var newestFirst = (cursor == null ? events : events.headMap(cursor, false)).descendingMap().values();
            List<AsyncEvent> page = new ArrayList<>();
            for (AsyncEvent e : newestFirst) {
                if ((functionId == null || e.functionId().equals(functionId)) && (status == null || e.status() == status)) {
                    if (page.size() == limit) {
                        return new Page<>(page, page.getLast().id());
                    }
                    page.add(e);
                }
            }
            return new Page<>(page, null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Map<String, Instant> pendingByFunction() {
        lock.lock();
        try {
            Map<String, Instant> due = new HashMap<>();
            for (AsyncEvent e : events.values()) {
                if (e.status().isPending()) {
                    due.merge(e.functionId(), e.nextAttemptAt(), (a, b) -> a.isBefore(b) ? a : b);
                }
            }
            return due;
        } finally {
            lock.unlock();
        }
    }

    /** One pass over the events under the lock: memory holds what a process can hold, so a pass is short. */
    @Override
    public Map<EventStatus, Long> countByStatus() {
        lock.lock();
        try {
            Map<EventStatus, Long> counts = new EnumMap<>(EventStatus.class);
            for (EventStatus s : EventBacklog.COUNTED) {
                counts.put(s, 0L);
            }
            for (AsyncEvent e : events.values()) {
                counts.computeIfPresent(e.status(), (s, n) -> n + 1);
            }
            return counts;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<Instant> oldestDue(Instant now) {
        lock.lock();
        try {
            Instant oldest = null;
            for (AsyncEvent e : events.values()) {
                if (e.status().isPending() && !e.nextAttemptAt().isAfter(now)
                        && (oldest == null || e.nextAttemptAt().isBefore(oldest))) {
                    oldest = e.nextAttemptAt();
                }
            }
            return Optional.ofNullable(oldest);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<AsyncEvent> due(String functionId, Instant now, int limit) {
        lock.lock();
        try {
            return events.values().stream()
                    .filter(e -> e.functionId().equals(functionId) && e.status().isPending()
                            && !e.nextAttemptAt().isAfter(now))
                    .sorted(Comparator.comparing(AsyncEvent::nextAttemptAt).thenComparing(AsyncEvent::id))
                    .limit(limit).toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<AsyncEvent> start(String id, int expectedAttempts, Instant now) {
        return change(id, e -> !e.status().isPending() || e.attempts() != expectedAttempts ? null
                : with(e, EventStatus.RUNNING, e.attempts() + 1, e.interruptedAttempts(), e.failedAttempts(), null,
                now, null, e.lastInvocationId(), e.result(), e.error()));
    }

    @Override
    public Optional<AsyncEvent> finish(String id, int attempt, EventStatus status, Instant nextAttemptAt,
                                       String invocationId, AsyncEvent.Result result, String error, Instant now) {
        EventStatus.checkAttemptEnd(status, nextAttemptAt);
        return change(id, e -> e.status() != EventStatus.RUNNING || e.attempts() != attempt ? null
                : with(e, status, e.attempts(), e.interruptedAttempts(),
                e.failedAttempts() + (status == EventStatus.SUCCEEDED ? 0 : 1),
                status == EventStatus.FAILED ? nextAttemptAt : null, e.startedAt(),
                status.isFinal() ? now : null, invocationId != null ? invocationId : e.lastInvocationId(),
                result != null ? result : e.result(), error));
    }

    @Override
    public Optional<AsyncEvent> kill(String id, int expectedAttempts, String error, Instant now) {
        return change(id, e -> !e.status().isPending() || e.attempts() != expectedAttempts ? null
                : with(e, EventStatus.DEAD, e.attempts(), e.interruptedAttempts(), e.failedAttempts(), null,
                e.startedAt(), now, e.lastInvocationId(), e.result(), error));
    }

    @Override
    public int requeueInterrupted(Instant now) {
        lock.lock();
        try {
            int n = 0;
            for (AsyncEvent e : List.copyOf(events.values())) {
                if (e.status() == EventStatus.RUNNING) {
                    events.put(e.id(), with(e, EventStatus.QUEUED, e.attempts(), e.interruptedAttempts() + 1,
                            e.failedAttempts(), now, e.startedAt(), null, e.lastInvocationId(), e.result(),
                            e.error()));
                    n++;
                }
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<AsyncEvent> redrive(String id, Instant now) {
        return change(id, e -> e.status() != EventStatus.DEAD ? null
                : with(e, EventStatus.QUEUED, e.attempts(), e.interruptedAttempts(), 0, now, e.startedAt(), null,
                e.lastInvocationId(), e.result(), e.error()));
    }

    @Override
    public void callbackDone(String id, String status) {
        change(id, e -> new AsyncEvent(e.id(), e.tenant(), e.functionId(), e.functionName(), e.status(), e.source(),
                e.request(), e.idempotencyKey(), e.callbackUrl(), e.acceptedAt(), e.attempts(),
                e.interruptedAttempts(), e.failedAttempts(), e.nextAttemptAt(), e.startedAt(), e.finishedAt(),
                e.lastInvocationId(), e.result(), e.error(), status));
    }

    @Override
    public long purgeFinishedBefore(Instant cutoff) {
        lock.lock();
        try {
            List<String> gone = events.values().stream()
                    .filter(e -> e.status().isFinal() && e.finishedAt() != null && e.finishedAt().isBefore(cutoff))
                    .map(AsyncEvent::id).toList();
            for (String id : gone) {
                AsyncEvent e = events.remove(id);
                if (e.idempotencyKey() != null) {
                    keys.remove(List.of(e.functionId(), e.idempotencyKey()), id);
                }
            }
            return gone.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<AsyncPolicy> policy(String functionId) {
        lock.lock();
        try {
            return Optional.ofNullable(policies.get(functionId));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void setPolicy(String functionId, AsyncPolicy policy) {
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(policy, "policy");
        lock.lock();
        try {
            policies.put(functionId, policy);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void removePolicy(String functionId) {
        lock.lock();
        try {
            policies.remove(functionId);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Map<String, AsyncPolicy> policies() {
        lock.lock();
        try {
            return Map.copyOf(policies);
        } finally {
            lock.unlock();
        }
    }

    /** Applies {@code step} to the event under the lock; a null from it means "not allowed now": nothing changes. */
    private Optional<AsyncEvent> change(String id, UnaryOperator<AsyncEvent> step) {
        lock.lock();
        try {
            AsyncEvent e = events.get(id);
            if (e == null) {
                return Optional.empty();
            }
            AsyncEvent next = step.apply(e);
            if (next == null) {
                return Optional.empty();
            }
            if (next.status() != e.status() && !e.status().canMoveTo(next.status())) {
                throw new IllegalStateException("event " + id + " cannot move from " + e.status() + " to "
                        + next.status());
            }
            events.put(id, next);
            return Optional.of(next);
        } finally {
            lock.unlock();
        }
    }

    private static AsyncEvent with(AsyncEvent e, EventStatus status, int attempts, int interrupted, int failed,
                                   Instant nextAttemptAt, Instant startedAt, Instant finishedAt,
                                   String lastInvocationId, AsyncEvent.Result result, String error) {
        return new AsyncEvent(e.id(), e.tenant(), e.functionId(), e.functionName(), status, e.source(), e.request(),
                e.idempotencyKey(), e.callbackUrl(), e.acceptedAt(), attempts, interrupted, failed, nextAttemptAt,
                startedAt, finishedAt, lastInvocationId, result, error, e.callbackStatus());
    }
}
