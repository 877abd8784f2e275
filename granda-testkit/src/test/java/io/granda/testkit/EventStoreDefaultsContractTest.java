package io.granda.testkit;

import io.granda.core.Page;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventStatus;
import io.granda.core.async.NewEvent;
import io.granda.core.memory.InMemoryEventStore;
import io.granda.core.spi.EventStore;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The default {@link EventStore#countByStatus()} and {@link EventStore#oldestDue(Instant)}, which a store written
 * before them inherits, against the shared contract: a store that overrides neither, over the in-memory one.
 */
class EventStoreDefaultsContractTest extends EventStoreContract {

    @Override
    protected EventStore createStore(FakeClock clock) {
        return new WithoutGaugeMethods(new InMemoryEventStore());
    }

    /** Passes every method but the two with defaults to another store. */
    private record WithoutGaugeMethods(EventStore d) implements EventStore {
        @Override
        public Accepted accept(NewEvent event, Duration idempotencyWindow) {
            return d.accept(event, idempotencyWindow);
        }

        @Override
        public Optional<AsyncEvent> find(String id) {
            return d.find(id);
        }

        @Override
        public Page<AsyncEvent> list(String functionId, EventStatus status, int limit, String cursor) {
            return d.list(functionId, status, limit, cursor);
        }

        @Override
        public Map<String, Instant> pendingByFunction() {
            return d.pendingByFunction();
        }

        @Override
        public List<AsyncEvent> due(String functionId, Instant now, int limit) {
            return d.due(functionId, now, limit);
        }

        @Override
        public Optional<AsyncEvent> start(String id, int expectedAttempts, Instant now) {
            return d.start(id, expectedAttempts, now);
        }

        @Override
        public Optional<AsyncEvent> finish(String id, int attempt, EventStatus status, Instant nextAttemptAt,
                                           String invocationId, AsyncEvent.Result result, String error, Instant now) {
            return d.finish(id, attempt, status, nextAttemptAt, invocationId, result, error, now);
        }

        @Override
        public Optional<AsyncEvent> kill(String id, int expectedAttempts, String error, Instant now) {
            return d.kill(id, expectedAttempts, error, now);
        }

        @Override
        public int requeueInterrupted(Instant now) {
            return d.requeueInterrupted(now);
        }

        @Override
        public Optional<AsyncEvent> redrive(String id, Instant now) {
            return d.redrive(id, now);
        }

        @Override
        public void callbackDone(String id, String status) {
            d.callbackDone(id, status);
        }

        @Override
        public long purgeFinishedBefore(Instant cutoff) {
            return d.purgeFinishedBefore(cutoff);
        }

        @Override
        public Optional<AsyncPolicy> policy(String functionId) {
            return d.policy(functionId);
        }

        @Override
        public void setPolicy(String functionId, AsyncPolicy policy) {
            d.setPolicy(functionId, policy);
        }

        @Override
        public void removePolicy(String functionId) {
            d.removePolicy(functionId);
        }

        @Override
        public Map<String, AsyncPolicy> policies() {
            return d.policies();
        }
    }
}
