package io.granda.testkit;

import io.granda.core.Ids;
import io.granda.core.InvocationRequest;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventStatus;
import io.granda.core.async.NewEvent;
import io.granda.core.spi.EventStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compatibility suite every {@link EventStore} must pass: an implementation's test extends it and says how to
 * make an empty store. Instants are whole microseconds, the precision every store keeps.
 */
public abstract class EventStoreContract {

    protected static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    protected static final Duration WINDOW = Duration.ofHours(24);

    protected final FakeClock clock = new FakeClock(T0);
    private EventStore store;

    /** @return a new store holding no events */
    protected abstract EventStore createStore(FakeClock clock);

    @BeforeEach
    void createStoreUnderTest() {
        store = createStore(clock);
    }

    @AfterEach
    void closeStoreUnderTest() throws Exception {
        if (store instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    private int sequence;

    private NewEvent event(String functionId, String key, Instant at) {
        // Ids are time-ordered like Granda's, with a counter so that events of one instant differ and sort in order.
        String id = Ids.newTimeOrderedId(at).substring(0, 10) + String.format("%016d", sequence++);
        InvocationRequest request = new InvocationRequest("PUT", "/orders/7", "a=1&b=2",
                Map.of("Content-Type", List.of("application/json"), "X-Multi", List.of("one", "two")),
                ("{\"n\":" + sequence + "}").getBytes(StandardCharsets.UTF_8));
        return new NewEvent(id, "default", functionId, "name-of-" + functionId, "api", request, key,
                "http://127.0.0.1:9/cb", at);
    }

    private AsyncEvent accepted(String functionId) {
        return store.accept(event(functionId, null, clock.instant()), WINDOW).event();
    }

    private static AsyncEvent.Result ok(String body) {
        return new AsyncEvent.Result(Outcome.SUCCESS, 200, "text/plain", body.getBytes(StandardCharsets.UTF_8), false,
                "log line");
    }

    // ---- accept and read ----

    @Test
    void anAcceptedEventIsQueuedDueAtOnceAndReadBackWhole() {
        NewEvent e = event("fn-1", "key-1", T0);
        Accepted a = store.accept(e, WINDOW);

        assertFalse(a.duplicate());
        AsyncEvent found = store.find(e.id()).orElseThrow();
        assertEquals(a.event(), withSameBody(found, a.event()));
        assertEquals(EventStatus.QUEUED, found.status());
        assertEquals(T0, found.acceptedAt());
        assertEquals(T0, found.nextAttemptAt());
        assertEquals(0, found.attempts());
        assertEquals("PUT", found.request().method());
        assertEquals("/orders/7", found.request().path());
        assertEquals("a=1&b=2", found.request().query());
        assertEquals(List.of("one", "two"), found.request().headers().get("x-multi"));
        assertArrayEquals(e.request().body(), found.request().body());
        assertEquals("key-1", found.idempotencyKey());
        assertEquals("http://127.0.0.1:9/cb", found.callbackUrl());
        assertNull(found.result());
        assertTrue(store.find("no-such-event").isEmpty());
    }

    /** Records compare arrays by identity: compare the event with the other's body array, after checking bytes. */
    private static AsyncEvent withSameBody(AsyncEvent found, AsyncEvent expected) {
        assertArrayEquals(expected.request().body(), found.request().body());
        return new AsyncEvent(found.id(), found.tenant(), found.functionId(), found.functionName(), found.status(),
                found.source(), expected.request(), found.idempotencyKey(), found.callbackUrl(), found.acceptedAt(),
                found.attempts(), found.interruptedAttempts(), found.failedAttempts(), found.nextAttemptAt(),
                found.startedAt(), found.finishedAt(), found.lastInvocationId(), found.result(), found.error(),
                found.callbackStatus());
    }

    @Test
    void theSameIdempotencyKeyWithinTheWindowIsAcceptedOnce() {
        AsyncEvent first = store.accept(event("fn-1", "k", T0), WINDOW).event();

        Accepted again = store.accept(event("fn-1", "k", T0.plus(Duration.ofHours(23))), WINDOW);
        assertTrue(again.duplicate());
        assertEquals(first.id(), again.event().id());

        Accepted otherFunction = store.accept(event("fn-2", "k", T0.plusSeconds(1)), WINDOW);
        assertFalse(otherFunction.duplicate(), "keys are per function");

        Accepted afterWindow = store.accept(event("fn-1", "k", T0.plus(Duration.ofHours(25))), WINDOW);
        assertFalse(afterWindow.duplicate(), "a key past its window is free again");
        assertNotEquals(first.id(), afterWindow.event().id());
        assertTrue(store.find(first.id()).isPresent(), "the earlier event stays");
        assertEquals(3, store.list(null, null, 100, null).items().size());
    }

    @Test
    void concurrentAcceptsWithOneKeyStoreOneEvent() throws Exception {
        int threads = 16;
        CountDownLatch go = new CountDownLatch(1);
        List<Callable<Accepted>> tasks = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            NewEvent e = event("fn-1", "same", T0);
            tasks.add(() -> {
                go.await();
                return store.accept(e, WINDOW);
            });
        }
        List<Accepted> results = runAll(tasks, go);
        assertEquals(1, results.stream().filter(a -> !a.duplicate()).count());
        assertEquals(1, results.stream().map(a -> a.event().id()).distinct().count());
        assertEquals(1, store.list("fn-1", null, 100, null).items().size());
    }

    @Test
    void concurrentAcceptsWithoutKeysAreAllStored() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Callable<Accepted>> tasks = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            NewEvent e = event("fn-" + (i % 3), null, T0);
            tasks.add(() -> {
                go.await();
                return store.accept(e, WINDOW);
            });
        }
        List<Accepted> results = runAll(tasks, go);
        assertEquals(200, results.stream().map(a -> a.event().id()).distinct().count());
        int listed = 0;
        for (int f = 0; f < 3; f++) {
            listed += store.list("fn-" + f, EventStatus.QUEUED, 1000, null).items().size();
        }
        assertEquals(200, listed);
    }

    // ---- attempts ----

    @Test
    void startIsACompareAndSetOnStatusAndAttempts() {
        AsyncEvent e = accepted("fn-1");

        assertTrue(store.start(e.id(), 1, T0).isEmpty(), "wrong expected attempts");
        AsyncEvent running = store.start(e.id(), 0, T0.plusMillis(5)).orElseThrow();
        assertEquals(EventStatus.RUNNING, running.status());
        assertEquals(1, running.attempts());
        assertEquals(T0.plusMillis(5), running.startedAt());
        assertNull(running.nextAttemptAt());
        assertTrue(store.start(e.id(), 0, T0).isEmpty(), "already running");
        assertTrue(store.start("no-such", 0, T0).isEmpty());
    }

    @Test
    void onlyOneOfManyConcurrentStartsWins() throws Exception {
        AsyncEvent e = accepted("fn-1");
        CountDownLatch go = new CountDownLatch(1);
        List<Callable<Boolean>> tasks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tasks.add(() -> {
                go.await();
                return store.start(e.id(), 0, T0).isPresent();
            });
        }
        assertEquals(1, runAll(tasks, go).stream().filter(b -> b).count());
    }

    @Test
    void aSucceededAttemptIsFinalAndRecordedOnce() {
        AsyncEvent e = accepted("fn-1");
        store.start(e.id(), 0, T0);
        AsyncEvent done = store.finish(e.id(), 1, EventStatus.SUCCEEDED, null, "inv-1", ok("hi"), null,
                T0.plusMillis(30)).orElseThrow();

        assertEquals(EventStatus.SUCCEEDED, done.status());
        assertEquals(T0.plusMillis(30), done.finishedAt());
        assertEquals("inv-1", done.lastInvocationId());
        assertEquals(0, done.failedAttempts());
        assertEquals("hi", new String(done.result().body(), StandardCharsets.UTF_8));
        assertEquals(200, done.result().httpStatus());
        assertEquals("text/plain", done.result().contentType());
        assertEquals("log line", done.result().logTail());
        assertTrue(store.finish(e.id(), 1, EventStatus.DEAD, null, null, null, "late", T0).isEmpty(),
                "a second end of the same attempt changes nothing");
        assertTrue(store.start(e.id(), 1, T0).isEmpty(), "a succeeded event never runs again");
        assertTrue(store.redrive(e.id(), T0).isEmpty(), "only dead events are re-driven");
        assertEquals(EventStatus.SUCCEEDED, store.find(e.id()).orElseThrow().status());
    }

    @Test
    void aFailedAttemptWaitsForItsNextAttemptTime() {
        AsyncEvent e = accepted("fn-1");
        store.start(e.id(), 0, T0);
        Instant next = T0.plusSeconds(2);
        AsyncEvent failed = store.finish(e.id(), 1, EventStatus.FAILED, next, "inv-1",
                new AsyncEvent.Result(Outcome.FUNCTION_ERROR, 502, null, new byte[0], false, "boom"),
                "function_error: exit code 1", T0.plusMillis(10)).orElseThrow();

        assertEquals(EventStatus.FAILED, failed.status());
        assertEquals(1, failed.failedAttempts());
        assertEquals(next, failed.nextAttemptAt());
        assertNull(failed.finishedAt());
        assertEquals("function_error: exit code 1", failed.error());
        assertEquals(Map.of("fn-1", next), store.pendingByFunction());
        assertTrue(store.due("fn-1", T0.plusSeconds(1), 10).isEmpty(), "not due yet");
        assertEquals(List.of(e.id()), store.due("fn-1", next, 10).stream().map(AsyncEvent::id).toList());

        AsyncEvent second = store.start(e.id(), 1, next).orElseThrow();
        assertEquals(2, second.attempts());
        AsyncEvent dead = store.finish(e.id(), 2, EventStatus.DEAD, null, "inv-2", null, "attempts used up",
                next.plusMillis(1)).orElseThrow();
        assertEquals(2, dead.failedAttempts());
        assertEquals("inv-2", dead.lastInvocationId());
        assertEquals(Outcome.FUNCTION_ERROR, dead.result().outcome(), "a finish without a result keeps the last one");
        assertTrue(store.pendingByFunction().isEmpty());
    }

    @Test
    void dueEventsComeEarliestFirstPerFunctionAndUpToTheLimit() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofMillis(1));
            ids.add(accepted("fn-1").id());
        }
        accepted("fn-2");

        assertEquals(ids.subList(0, 3), store.due("fn-1", clock.instant(), 3).stream().map(AsyncEvent::id).toList());
        assertEquals(Set.of("fn-1", "fn-2"), store.pendingByFunction().keySet());
        assertEquals(T0.plusMillis(1), store.pendingByFunction().get("fn-1"));
    }

    @Test
    void killMovesOnlyAPendingEventToDead() {
        AsyncEvent e = accepted("fn-1");
        AsyncEvent dead = store.kill(e.id(), 0, "expired", T0.plusSeconds(1)).orElseThrow();
        assertEquals(EventStatus.DEAD, dead.status());
        assertEquals("expired", dead.error());
        assertEquals(T0.plusSeconds(1), dead.finishedAt());

        AsyncEvent running = accepted("fn-1");
        store.start(running.id(), 0, T0);
        assertTrue(store.kill(running.id(), 1, "x", T0).isEmpty());
    }

    @Test
    void interruptedAttemptsAreQueuedAgainAndCountedApart() {
        AsyncEvent a = accepted("fn-1");
        AsyncEvent b = accepted("fn-1");
        store.start(a.id(), 0, T0);

        assertEquals(1, store.requeueInterrupted(T0.plusSeconds(9)));
        AsyncEvent again = store.find(a.id()).orElseThrow();
        assertEquals(EventStatus.QUEUED, again.status());
        assertEquals(1, again.attempts());
        assertEquals(1, again.interruptedAttempts());
        assertEquals(0, again.failedAttempts());
        assertEquals(T0.plusSeconds(9), again.nextAttemptAt());
        assertEquals(EventStatus.QUEUED, store.find(b.id()).orElseThrow().status());
        assertEquals(0, store.requeueInterrupted(T0));
    }

    @Test
    void aDeadEventIsReDrivenWithAFreshCountOfFailures() {
        AsyncEvent e = accepted("fn-1");
        store.start(e.id(), 0, T0);
        store.finish(e.id(), 1, EventStatus.DEAD, null, "inv", null, "boom", T0);

        AsyncEvent queued = store.redrive(e.id(), T0.plusSeconds(60)).orElseThrow();
        assertEquals(EventStatus.QUEUED, queued.status());
        assertEquals(0, queued.failedAttempts());
        assertEquals(1, queued.attempts(), "earlier attempts stay in the total");
        assertNull(queued.finishedAt());
        assertEquals(T0.plusSeconds(60), queued.nextAttemptAt());
        assertTrue(store.redrive(e.id(), T0).isEmpty(), "no longer dead");
        assertTrue(store.start(e.id(), 1, T0.plusSeconds(60)).isPresent());
    }

    @Test
    void finishRefusesAnEndThatIsNotOne() {
        AsyncEvent e = accepted("fn-1");
        store.start(e.id(), 0, T0);
        assertThrows(IllegalArgumentException.class,
                () -> store.finish(e.id(), 1, EventStatus.QUEUED, null, null, null, null, T0));
        assertThrows(IllegalArgumentException.class,
                () -> store.finish(e.id(), 1, EventStatus.FAILED, null, null, null, "x", T0));
        assertThrows(IllegalArgumentException.class,
                () -> store.finish(e.id(), 1, EventStatus.SUCCEEDED, T0, null, null, null, T0));
        assertEquals(EventStatus.RUNNING, store.find(e.id()).orElseThrow().status());
    }

    @Test
    void callbackOutcomesAreKept() {
        AsyncEvent e = accepted("fn-1");
        store.callbackDone(e.id(), "delivered 204");
        assertEquals("delivered 204", store.find(e.id()).orElseThrow().callbackStatus());
    }

    // ---- gauges ----

    @Test
    void countByStatusCountsEveryWatchedStatusZerosIncludedAndNotSucceeded() {
        Map<EventStatus, Long> zeros = Map.of(EventStatus.QUEUED, 0L, EventStatus.RUNNING, 0L,
                EventStatus.FAILED, 0L, EventStatus.DEAD, 0L);
        assertEquals(zeros, store.countByStatus(), "an empty store has every status, at zero");

        accepted("fn-1");
        accepted("fn-2");
        AsyncEvent running = accepted("fn-1");
        store.start(running.id(), 0, T0);
        AsyncEvent failed = accepted("fn-2");
        store.start(failed.id(), 0, T0);
        store.finish(failed.id(), 1, EventStatus.FAILED, T0.plusSeconds(5), "i1", null, "boom", T0);
        AsyncEvent dead = accepted("fn-1");
        store.kill(dead.id(), 0, "expired", T0);
        AsyncEvent succeeded = accepted("fn-3");
        store.start(succeeded.id(), 0, T0);
        store.finish(succeeded.id(), 1, EventStatus.SUCCEEDED, null, "i2", ok("ok"), null, T0);

        assertEquals(Map.of(EventStatus.QUEUED, 2L, EventStatus.RUNNING, 1L, EventStatus.FAILED, 1L,
                EventStatus.DEAD, 1L), store.countByStatus());

        store.redrive(dead.id(), T0.plusSeconds(1));
        store.finish(running.id(), 1, EventStatus.DEAD, null, "i3", null, "attempts used up", T0.plusSeconds(1));
        assertEquals(Map.of(EventStatus.QUEUED, 3L, EventStatus.RUNNING, 0L, EventStatus.FAILED, 1L,
                EventStatus.DEAD, 1L), store.countByStatus(), "counts follow every move");
        assertEquals(2, store.purgeFinishedBefore(T0.plus(Duration.ofDays(1))), "the succeeded and the dead one");
        assertEquals(Map.of(EventStatus.QUEUED, 3L, EventStatus.RUNNING, 0L, EventStatus.FAILED, 1L,
                EventStatus.DEAD, 0L), store.countByStatus(), "purged dead events are no longer counted");
    }

    @Test
    void countByStatusAgreesWithListingOverManyEvents() {
        for (int i = 0; i < 321; i++) {
            AsyncEvent e = accepted("fn-" + (i % 5));
            if (i % 3 == 0) {
                store.kill(e.id(), 0, "x", T0);
            } else if (i % 7 == 0) {
                store.start(e.id(), 0, T0);
            }
        }
        Map<EventStatus, Long> counts = store.countByStatus();
        for (EventStatus s : List.of(EventStatus.QUEUED, EventStatus.RUNNING, EventStatus.DEAD)) {
            long listed = 0;
            String cursor = null;
            do {
                Page<AsyncEvent> page = store.list(null, s, 1000, cursor);
                listed += page.items().size();
                cursor = page.nextCursor();
            } while (cursor != null);
            assertEquals(listed, counts.get(s), s.apiName());
        }
        assertEquals(321, counts.values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void oldestDueIsTheEarliestDueTimeOfAPendingEventThatIsDue() {
        assertTrue(store.oldestDue(T0).isEmpty(), "no events");

        clock.set(T0.plusSeconds(1));
        AsyncEvent queued = accepted("fn-1");
        AsyncEvent retried = accepted("fn-2");
        store.start(retried.id(), 0, T0.plusSeconds(1));
        store.finish(retried.id(), 1, EventStatus.FAILED, T0.plusSeconds(3), "i", null, "boom", T0.plusSeconds(1));
        clock.set(T0.plusSeconds(2));
        accepted("fn-1");

        assertTrue(store.oldestDue(T0).isEmpty(), "nothing is due before the first due time");
        assertEquals(Optional.of(T0.plusSeconds(1)), store.oldestDue(T0.plusSeconds(1)));
        assertEquals(Optional.of(T0.plusSeconds(1)), store.oldestDue(T0.plusSeconds(60)));

        store.start(queued.id(), 0, T0.plusSeconds(4));
        assertEquals(Optional.of(T0.plusSeconds(2)), store.oldestDue(T0.plusSeconds(2)),
                "a running event is not pending; the failed one is not due yet");
        assertEquals(Optional.of(T0.plusSeconds(2)), store.oldestDue(T0.plusSeconds(4)),
                "the queued one is older than the failed one's due time");
        store.finish(queued.id(), 1, EventStatus.DEAD, null, "i", null, "attempts used up", T0.plusSeconds(4));
        AsyncEvent later = store.list("fn-1", EventStatus.QUEUED, 10, null).items().getFirst();
        store.kill(later.id(), 0, "expired", T0.plusSeconds(4));
        assertEquals(Optional.of(T0.plusSeconds(3)), store.oldestDue(T0.plusSeconds(4)),
                "dead events are not pending: the failed event, due at its retry time");
        assertTrue(store.oldestDue(T0.plusMillis(2999)).isEmpty());
    }

    // ---- listing and purging ----

    @Test
    void listingIsNewestFirstFilteredAndPagedWithoutGapsOrRepeats() {
        List<String> fn1 = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            clock.advance(Duration.ofMillis(1));
            fn1.add(accepted("fn-1").id());
            accepted("fn-2");
        }
        AsyncEvent dead = store.find(fn1.get(3)).orElseThrow();
        store.kill(dead.id(), 0, "x", clock.instant());

        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            Page<AsyncEvent> page = store.list("fn-1", null, 7, cursor);
            assertTrue(page.items().size() <= 7);
            page.items().forEach(e -> seen.add(e.id()));
            cursor = page.nextCursor();
        } while (cursor != null);
        assertEquals(fn1.reversed(), seen);
        assertEquals(List.of(dead.id()), store.list("fn-1", EventStatus.DEAD, 10, null).items().stream()
                .map(AsyncEvent::id).toList());
        assertEquals(50, store.list(null, null, 1000, null).items().size());
        assertThrows(IllegalArgumentException.class, () -> store.list(null, null, 0, null));
    }

    @Test
    void purgeDeletesOnlyFinalEventsFinishedBeforeTheCutoff() {
        AsyncEvent old = accepted("fn-1");
        store.start(old.id(), 0, T0);
        store.finish(old.id(), 1, EventStatus.SUCCEEDED, null, "i", ok(""), null, T0);
        AsyncEvent oldDead = accepted("fn-1");
        store.kill(oldDead.id(), 0, "x", T0.plusSeconds(1));
        AsyncEvent recent = accepted("fn-1");
        store.kill(recent.id(), 0, "x", T0.plus(Duration.ofDays(2)));
        AsyncEvent pending = accepted("fn-1");

        assertEquals(2, store.purgeFinishedBefore(T0.plus(Duration.ofDays(1))));
        assertTrue(store.find(old.id()).isEmpty());
        assertTrue(store.find(oldDead.id()).isEmpty());
        assertTrue(store.find(recent.id()).isPresent());
        assertTrue(store.find(pending.id()).isPresent());
    }

    // ---- policies ----

    @Test
    void policiesAreSetReplacedAndRemoved() {
        AsyncPolicy p = new AsyncPolicy(5, Duration.ofMillis(250), Duration.ofSeconds(30), Duration.ofHours(2), 3,
                "*/5 * * * *", "https://example.org/hook");
        assertTrue(store.policy("fn-1").isEmpty());
        store.setPolicy("fn-1", p);
        assertEquals(Optional.of(p), store.policy("fn-1"));

        AsyncPolicy q = new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), 1, null, null);
        store.setPolicy("fn-1", q);
        store.setPolicy("fn-2", p);
        assertEquals(Map.of("fn-1", q, "fn-2", p), store.policies());
        store.removePolicy("fn-1");
        assertEquals(Map.of("fn-2", p), store.policies());
    }

    private static <T> List<T> runAll(List<Callable<T>> tasks, CountDownLatch go) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(tasks.size())) {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> t : tasks) {
                futures.add(pool.submit(t));
            }
            go.countDown();
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }

    /** @return ids of every event of the store, for subclasses' own checks */
    protected final Set<String> allIds() {
        Set<String> ids = new HashSet<>();
        store.list(null, null, 1000, null).items().forEach(e -> ids.add(e.id()));
        return ids;
    }

    /** @return the store under test */
    protected final EventStore store() {
        return store;
    }
}
