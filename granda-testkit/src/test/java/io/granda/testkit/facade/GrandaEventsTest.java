package io.granda.testkit.facade;

import com.sun.net.httpserver.HttpServer;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.InvocationRequest;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncEventListener;
import io.granda.core.async.EventBacklog;
import io.granda.core.async.AsyncOptions;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventNotFoundException;
import io.granda.core.async.EventStatus;
import io.granda.core.async.GrandaEvents;
import io.granda.core.memory.InMemoryEventStore;
import io.granda.core.spi.RunOnceResult;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Asynchronous invocations through the facade, on the fake backend and a manual clock: the event engine's rules
 * (retries and their backoff, dead letters, re-drive, idempotency, limits, schedules, callbacks) with nothing else
 * in the way. Waits poll with a deadline; no timing is asserted except against the manual clock.
 */
@Timeout(60)
class GrandaEventsTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private final FakeClock clock = new FakeClock(T0);
    private final FakeBackend backend = new FakeBackend();
    private final Granda granda = Granda.builder().backend(backend).clock(clock).build();
    private final InMemoryEventStore store = new InMemoryEventStore();
    private final Heard heard = new Heard();
    private final GrandaEvents events = GrandaEvents.builder(granda, store)
            .options(AsyncOptions.DEFAULTS.withPollInterval(Duration.ofMillis(20))).listener(heard).start();

    /** What the listener was told, one line per call: {@code attempt <function> <outcome>}, and so on. */
    private static final class Heard implements AsyncEventListener {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public void attemptEnded(AsyncEvent event, AttemptOutcome outcome) {
            lines.add("attempt " + event.functionName() + " " + outcome.label());
        }

        @Override
        public void eventDead(AsyncEvent event, DeadReason reason) {
            assertEquals(EventStatus.DEAD, event.status());
            lines.add("dead " + event.functionName() + " " + reason.label());
        }

        @Override
        public void callbackEnded(AsyncEvent event, boolean delivered, String outcome) {
            lines.add("callback " + event.functionName() + " " + delivered + " " + outcome);
        }

        @Override
        public void scheduleFired(AsyncEvent event) {
            lines.add("fired " + event.functionName() + " " + event.source());
        }

        List<String> starting(String prefix) {
            return lines.stream().filter(l -> l.startsWith(prefix)).toList();
        }
    }

    /**
     * Waits until the listener has heard exactly {@code expected} (the lines that start with {@code prefix}): a
     * listener is told just after the store records a change, so a test that saw the change may be a moment early.
     */
    private void assertHeard(String prefix, List<String> expected) {
        await(() -> heard.starting(prefix).equals(expected), () -> "the listener to hear " + expected + ", heard "
                + heard.lines);
    }

    @AfterEach
    void close() {
        events.close();
        granda.close();
    }

    private void deploy(String name) {
        granda.deploy(FunctionSpec.builder(name).image("granda/" + name).build());
    }

    private Accepted submit(String name, String payload) {
        return events.submit(name, InvocationRequest.of(payload), null, null, "api");
    }

    private AsyncEvent awaitStatus(String id, EventStatus status) {
        await(() -> events.event(id).orElseThrow().status() == status, () -> "event " + id + " to be " + status
                + ", is " + events.event(id).orElseThrow());
        return events.event(id).orElseThrow();
    }

    private static void await(BooleanSupplier condition, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Lets the dispatcher run a few rounds at the current (manual) time, for asserting that nothing happens. */
    private void settle() throws InterruptedException {
        events.wake();
        Thread.sleep(150);
    }

    @Test
    void anAcceptedEventRunsOnceAndKeepsItsResult() {
        deploy("echo");
        Accepted a = submit("echo", "hello");
        assertFalse(a.duplicate());
        assertEquals(EventStatus.QUEUED, a.event().status());

        AsyncEvent done = awaitStatus(a.event().id(), EventStatus.SUCCEEDED);
        assertEquals("hello", new String(done.result().body(), StandardCharsets.UTF_8));
        assertEquals(200, done.result().httpStatus());
        assertEquals(1, done.attempts());
        assertEquals(1, backend.runCalls());
        assertNotNull(done.lastInvocationId());
        assertTrue(granda.invocation(done.lastInvocationId()).isPresent(), "the attempt is metered like any call");
        assertEquals("api", done.source());
    }

    @Test
    void failedAttemptsAreRetriedAfterTheBackoffOfThePolicy() throws Exception {
        deploy("flaky");
        events.setPolicy("flaky", new AsyncPolicy(3, Duration.ofSeconds(1), Duration.ofMinutes(1),
                Duration.ofHours(1), 10, null, null));
        AtomicInteger calls = new AtomicInteger();
        backend.withBehaviour(r -> calls.incrementAndGet() < 3 ? Runs.exited(1, "", Duration.ofMillis(5))
                : Runs.exited(0, "third time", Duration.ofMillis(5)));
        String id = submit("flaky", "x").event().id();

        AsyncEvent failed = awaitStatus(id, EventStatus.FAILED);
        assertEquals(1, failed.failedAttempts());
        assertEquals(T0.plusSeconds(1), failed.nextAttemptAt(), "first backoff: initialBackoff");
        assertTrue(failed.error().startsWith("function_error"), failed.error());
        settle();
        assertEquals(1, calls.get(), "no retry before its time");

        clock.advance(Duration.ofSeconds(1));
        events.wake();
        await(() -> calls.get() == 2 && events.event(id).orElseThrow().status() == EventStatus.FAILED,
                () -> "the second attempt");
        assertEquals(T0.plusSeconds(1 + 2), events.event(id).orElseThrow().nextAttemptAt(), "the backoff doubles");
        clock.advance(Duration.ofMillis(1999));
        settle();
        assertEquals(2, calls.get());

        clock.advance(Duration.ofMillis(1));
        events.wake();
        AsyncEvent done = awaitStatus(id, EventStatus.SUCCEEDED);
        assertEquals(3, done.attempts());
        assertEquals("third time", new String(done.result().body(), StandardCharsets.UTF_8));
        assertHeard("", List.of("attempt flaky failed", "attempt flaky failed", "attempt flaky succeeded"));
    }

    @Test
    void aPermanentlyFailingEventEndsDeadAndCanBeReDriven() {
        deploy("broken");
        events.setPolicy("broken", new AsyncPolicy(2, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 10, null,
                null));
        backend.withBehaviour(r -> Runs.ended(RunOnceResult.Termination.EXITED, 3, "no database"));
        String id = submit("broken", "x").event().id();

        AsyncEvent dead = awaitStatus(id, EventStatus.DEAD);
        assertEquals(2, dead.attempts());
        assertTrue(dead.error().startsWith("attempts used up (2 of 2): function_error: exit code 3"), dead.error());
        assertEquals("no database", dead.result().logTail());
        assertEquals(List.of(id), events.events("broken", EventStatus.DEAD, 10, null).items().stream()
                .map(AsyncEvent::id).toList(), "the dead-letter list");

        backend.withBehaviour(FakeBackend::echo);
        events.redrive(id);
        AsyncEvent done = awaitStatus(id, EventStatus.SUCCEEDED);
        assertEquals(3, done.attempts());
        assertTrue(events.events("broken", EventStatus.DEAD, 10, null).items().isEmpty());
        assertThrows(EventNotFoundException.class, () -> events.redrive(id), "only dead events are re-driven");
        assertThrows(EventNotFoundException.class, () -> events.redrive("no-such-event"));
    }

    @Test
    void anEventRetriedTwiceThenDeadIsToldAsThreeFailedAttemptsAndOneDeath() {
        deploy("broken");
        events.setPolicy("broken", new AsyncPolicy(3, Duration.ofSeconds(1), Duration.ofMinutes(1),
                Duration.ofHours(1), 10, null, null));
        backend.withBehaviour(r -> Runs.exited(1, "", Duration.ofMillis(1)));
        String id = submit("broken", "x").event().id();

        awaitStatus(id, EventStatus.FAILED);
        assertEquals(Map.of(EventStatus.QUEUED, 0L, EventStatus.RUNNING, 0L, EventStatus.FAILED, 1L,
                EventStatus.DEAD, 0L), events.backlog().byStatus(), "waiting for its retry");
        assertEquals(Duration.ZERO, events.backlog().oldestDueAge(), "the retry is not due yet");
        for (int retry = 1; retry <= 2; retry++) {
            int attempts = retry;
            await(() -> events.event(id).orElseThrow().attempts() == attempts
                    && events.event(id).orElseThrow().status() == EventStatus.FAILED, () -> "attempt " + attempts);
            clock.advance(Duration.ofSeconds(1L << (retry - 1)));
            events.wake();
        }
        AsyncEvent dead = awaitStatus(id, EventStatus.DEAD);
        assertEquals(3, dead.attempts());

        assertHeard("", List.of("attempt broken failed", "attempt broken failed", "attempt broken failed",
                "dead broken attempts_exhausted"));
        EventBacklog backlog = events.backlog();
        assertEquals(Map.of(EventStatus.QUEUED, 0L, EventStatus.RUNNING, 0L, EventStatus.FAILED, 0L,
                EventStatus.DEAD, 1L), backlog.byStatus());
        assertEquals(clock.instant(), backlog.at());

        backend.withBehaviour(FakeBackend::echo);
        events.redrive(id);
        awaitStatus(id, EventStatus.SUCCEEDED);
        assertHeard("attempt", List.of("attempt broken failed", "attempt broken failed", "attempt broken failed",
                "attempt broken succeeded"));
        assertEquals(0, events.backlog().count(EventStatus.DEAD), "a re-driven event is no longer dead");
    }

    @Test
    void theBacklogShowsQueuedEventsAndHowLongTheOldestHasBeenDue() throws Exception {
        deploy("slow");
        events.setPolicy("slow", new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 1, null,
                null));
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger now = new AtomicInteger();
        backend.withBehaviour(r -> slowEcho(r, now, new AtomicInteger(), release));
        String first = submit("slow", "1").event().id();
        awaitStatus(first, EventStatus.RUNNING);
        clock.advance(Duration.ofMillis(1));
        String second = submit("slow", "2").event().id();
        clock.advance(Duration.ofSeconds(7));
        settle();

        EventBacklog backlog = events.backlog();
        assertEquals(1, backlog.count(EventStatus.RUNNING));
        assertEquals(1, backlog.count(EventStatus.QUEUED), "concurrency 1: the second waits");
        assertEquals(T0.plusMillis(1), backlog.oldestDue());
        assertEquals(Duration.ofSeconds(7), backlog.oldestDueAge());
        assertEquals(0, backlog.count(EventStatus.SUCCEEDED), "succeeded events are not counted");

        release.countDown();
        awaitStatus(second, EventStatus.SUCCEEDED);
        backlog = events.backlog();
        assertEquals(0, backlog.count(EventStatus.QUEUED) + backlog.count(EventStatus.RUNNING));
        assertEquals(Duration.ZERO, backlog.oldestDueAge(), "nothing is due");
        assertHeard("", List.of("attempt slow succeeded", "attempt slow succeeded"));
    }

    @Test
    void aListenerThatThrowsChangesNothing() {
        events.close();
        GrandaEvents withBadListener = GrandaEvents.builder(granda, new InMemoryEventStore())
                .options(AsyncOptions.DEFAULTS.withPollInterval(Duration.ofMillis(20)))
                .listener(new AsyncEventListener() {
                    @Override
                    public void attemptEnded(AsyncEvent event, AttemptOutcome outcome) {
                        throw new IllegalStateException("a broken listener");
                    }
                }).listener(heard).start();
        try {
            deploy("echo");
            String id = withBadListener.submit("echo", InvocationRequest.of("hi"), null, null, "api").event().id();
            await(() -> withBadListener.event(id).orElseThrow().status() == EventStatus.SUCCEEDED, () -> "success");
            assertHeard("", List.of("attempt echo succeeded"));
        } finally {
            withBadListener.close();
        }
    }

    @Test
    void redriveDeadReDrivesEveryDeadEventOfTheFunction() {
        deploy("broken");
        events.setPolicy("broken", new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 10, null,
                null));
        backend.withBehaviour(r -> Runs.exited(1, "", Duration.ofMillis(1)));
        List<String> ids = List.of(submit("broken", "1").event().id(), submit("broken", "2").event().id());
        ids.forEach(id -> awaitStatus(id, EventStatus.DEAD));

        backend.withBehaviour(FakeBackend::echo);
        assertEquals(2, events.redriveDead("broken"));
        ids.forEach(id -> awaitStatus(id, EventStatus.SUCCEEDED));
    }

    @Test
    void theSameIdempotencyKeyRunsTheFunctionOnce() {
        deploy("pay");
        Accepted first = events.submit("pay", InvocationRequest.of("charge 10"), "order-42", null, "api");
        Accepted again = events.submit("pay", InvocationRequest.of("charge 10"), "order-42", null, "api");
        Accepted other = events.submit("pay", InvocationRequest.of("charge 11"), "order-43", null, "api");

        assertTrue(again.duplicate());
        assertEquals(first.event().id(), again.event().id());
        awaitStatus(first.event().id(), EventStatus.SUCCEEDED);
        awaitStatus(other.event().id(), EventStatus.SUCCEEDED);
        assertEquals(2, backend.runCalls());
        assertThrows(io.granda.core.InvalidFunctionSpecException.class,
                () -> events.submit("pay", InvocationRequest.of(""), "bad key with spaces", null, "api"));
    }

    @Test
    void noMoreEventsOfAFunctionRunAtOnceThanItsConcurrency() throws Exception {
        deploy("slow");
        events.setPolicy("slow", new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 2, null,
                null));
        AtomicInteger now = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        backend.withBehaviour(r -> {
            peak.accumulateAndGet(now.incrementAndGet(), Math::max);
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            now.decrementAndGet();
            return FakeBackend.echo(r);
        });
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(submit("slow", "e" + i).event().id());
        }
        await(() -> now.get() == 2, () -> "two running");
        settle();
        assertEquals(2, events.running());
        assertEquals(8, events.events("slow", EventStatus.QUEUED, 100, null).items().size());
        // A sync call is not held back by the event limit.
        deploy("other");
        backend.withBehaviour(r -> r.functionName().equals("other") ? FakeBackend.echo(r) : slowEcho(r, now, peak,
                release));
        assertEquals("sync", granda.invoke("other", InvocationRequest.of("sync")).outputAsString());

        release.countDown();
        ids.forEach(id -> awaitStatus(id, EventStatus.SUCCEEDED));
        assertEquals(2, peak.get());
    }

    private static RunOnceResult slowEcho(io.granda.core.spi.RunOnceRequest r, AtomicInteger now, AtomicInteger peak,
                                          CountDownLatch release) {
        peak.accumulateAndGet(now.incrementAndGet(), Math::max);
        try {
            release.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        now.decrementAndGet();
        return FakeBackend.echo(r);
    }

    @Test
    void theGlobalLimitCapsEventsOverAllFunctions() throws Exception {
        events.close();
        GrandaEvents limited = GrandaEvents.builder(granda, new InMemoryEventStore())
                .options(AsyncOptions.DEFAULTS.withPollInterval(Duration.ofMillis(20)).withMaxConcurrentEvents(3))
                .start();
        try {
            AtomicInteger now = new AtomicInteger();
            AtomicInteger peak = new AtomicInteger();
            CountDownLatch release = new CountDownLatch(1);
            backend.withBehaviour(r -> slowEcho(r, now, peak, release));
            List<String> ids = new java.util.ArrayList<>();
            for (String f : List.of("a", "b", "c")) {
                deploy(f);
                for (int i = 0; i < 3; i++) {
                    ids.add(limited.submit(f, InvocationRequest.of(f + i), null, null, "api").event().id());
                }
            }
            await(() -> now.get() == 3, () -> "three running");
            Thread.sleep(150);
            assertEquals(3, now.get());
            release.countDown();
            ids.forEach(id -> await(() -> limited.event(id).orElseThrow().status() == EventStatus.SUCCEEDED,
                    () -> "event " + id));
            assertEquals(3, peak.get());
        } finally {
            limited.close();
        }
    }

    @Test
    void anEventOfADeletedFunctionIsDead() throws Exception {
        deploy("gone");
        CountDownLatch release = new CountDownLatch(1);
        events.setPolicy("gone", new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 1, null,
                null));
        backend.withBehaviour(r -> slowEcho(r, new AtomicInteger(), new AtomicInteger(), release));
        String first = submit("gone", "1").event().id();
        awaitStatus(first, EventStatus.RUNNING);
        // Submitted once the first runs: events of one (manual-clock) millisecond have no order among themselves.
        String second = submit("gone", "2").event().id();
        granda.delete("gone");
        release.countDown();

        AsyncEvent dead = awaitStatus(second, EventStatus.DEAD);
        assertTrue(dead.error().startsWith("function deleted"), dead.error());
        assertEquals(0, dead.attempts());
        assertHeard("dead ", List.of("dead gone function_deleted"));
    }

    @Test
    void anEventTooOldForItsNextAttemptIsDead() {
        deploy("late");
        events.setPolicy("late", new AsyncPolicy(5, Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofSeconds(5), 10, null, null));
        backend.withBehaviour(r -> Runs.exited(1, "", Duration.ofMillis(1)));
        String id = submit("late", "x").event().id();

        AsyncEvent dead = awaitStatus(id, EventStatus.DEAD);
        assertEquals(1, dead.attempts());
        assertTrue(dead.error().startsWith("expired"), dead.error());
        assertHeard("", List.of("attempt late failed", "dead late too_old"));
    }

    @Test
    void aScheduleFiresAnEventAtEachFiringAndNotBefore() throws Exception {
        deploy("tick");
        // 6 fields: every 10 seconds. The clock stands at T0, a firing; the first one after it is T0 + 10 s.
        events.setPolicy("tick", new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 10,
                "*/10 * * * * *", null));
        settle();
        clock.advance(Duration.ofSeconds(9));
        settle();
        assertTrue(events.events("tick", null, 10, null).items().isEmpty(), "nothing before the first firing");

        clock.advance(Duration.ofSeconds(1));
        events.wake();
        await(() -> events.events("tick", EventStatus.SUCCEEDED, 10, null).items().size() == 1, () -> "one firing");
        AsyncEvent fired = events.events("tick", null, 10, null).items().getFirst();
        assertEquals("schedule", fired.source());
        assertEquals(List.of(T0.plusSeconds(10).toString()), fired.request().headers().get("X-Granda-Scheduled-Time"));
        assertTrue(new String(fired.result().body(), StandardCharsets.UTF_8).contains("\"scheduledTime\":\""
                + T0.plusSeconds(10) + "\""));

        // The platform was busy for 25 s: each missed firing in between fires once.
        clock.advance(Duration.ofSeconds(25));
        events.wake();
        await(() -> events.events("tick", EventStatus.SUCCEEDED, 10, null).items().size() == 3,
                () -> "three firings, have " + events.events("tick", null, 10, null).items().size());
        List<String> times = events.events("tick", null, 10, null).items().stream()
                .map(e -> e.request().headers().get("X-Granda-Scheduled-Time").getFirst()).sorted().toList();
        assertEquals(List.of(T0.plusSeconds(10).toString(), T0.plusSeconds(20).toString(),
                T0.plusSeconds(30).toString()), times);
        assertEquals(3, backend.runCalls());
        assertHeard("fired ", List.of("fired tick schedule", "fired tick schedule", "fired tick schedule"));
    }

    private GrandaEvents startOn(InMemoryEventStore shared) {
        return GrandaEvents.builder(granda, shared)
                .options(AsyncOptions.DEFAULTS.withPollInterval(Duration.ofMillis(20))).start();
    }

    private static List<String> scheduledTimes(GrandaEvents on, String function) {
        return on.events(function, null, 100, null).items().stream()
                .map(e -> e.request().headers().get("X-Granda-Scheduled-Time").getFirst()).sorted().toList();
    }

    /**
     * Deploys {@code tick}, runs events with its policy (every 10 s) on a store that outlives them, fires its first
     * firing (T0 + 10 s) and stops, as a platform stopping after a while would.
     */
    private InMemoryEventStore tickedOnceThenStopped(Duration maxEventAge) throws InterruptedException {
        deploy("tick");
        events.close();
        InMemoryEventStore shared = new InMemoryEventStore();
        GrandaEvents first = startOn(shared);
        first.setPolicy("tick", new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, maxEventAge, 10, "*/10 * * * * *",
                null));
        first.wake();
        Thread.sleep(150);
        clock.advance(Duration.ofSeconds(10));
        first.wake();
        await(() -> first.events("tick", EventStatus.SUCCEEDED, 10, null).items().size() == 1, () -> "first firing");
        first.close();
        return shared;
    }

    @Test
    void theLatestFiringMissedWhileStoppedRunsOnceAtTheNextStart() throws Exception {
        InMemoryEventStore shared = tickedOnceThenStopped(Duration.ofHours(1));

        // Down from T0 + 10 s to T0 + 35 s: the firings at + 20 s and + 30 s were missed.
        clock.advance(Duration.ofSeconds(25));
        GrandaEvents second = startOn(shared);
        try {
            await(() -> second.events("tick", EventStatus.SUCCEEDED, 10, null).items().size() == 2,
                    () -> "caught up, have " + scheduledTimes(second, "tick"));
            second.wake();
            Thread.sleep(150);
            assertEquals(List.of(T0.plusSeconds(10).toString(), T0.plusSeconds(30).toString()),
                    scheduledTimes(second, "tick"), "the latest missed firing once, not each missed one");
            // And the schedule goes on from there.
            clock.advance(Duration.ofSeconds(5));
            second.wake();
            await(() -> second.events("tick", EventStatus.SUCCEEDED, 10, null).items().size() == 3, () -> "+40 s");
            assertEquals(T0.plusSeconds(40).toString(), scheduledTimes(second, "tick").getLast());
        } finally {
            second.close();
        }
    }

    @Test
    void aMissedFiringOlderThanMaxEventAgeIsSkippedAndOneMadeBeforeTheStopIsNotMadeAgain() throws Exception {
        // Events of this function are stale after 5 s.
        InMemoryEventStore shared = tickedOnceThenStopped(Duration.ofSeconds(5));

        // Restarted at T0 + 37 s: the firing at + 30 s is 7 s old, older than the function's 5 s: not run.
        clock.advance(Duration.ofSeconds(27));
        GrandaEvents second = startOn(shared);
        second.wake();
        Thread.sleep(300);
        assertEquals(List.of(T0.plusSeconds(10).toString()), scheduledTimes(second, "tick"));
        clock.advance(Duration.ofSeconds(3));
        second.wake();
        await(() -> second.events("tick", EventStatus.SUCCEEDED, 10, null).items().size() == 2, () -> "+40 s");
        second.close();

        // Restarted 2 s after the firing at + 40 s, which the previous start made: it is not made again.
        clock.advance(Duration.ofSeconds(2));
        GrandaEvents third = startOn(shared);
        try {
            third.wake();
            Thread.sleep(300);
            assertEquals(List.of(T0.plusSeconds(10).toString(), T0.plusSeconds(40).toString()),
                    scheduledTimes(third, "tick"));
            assertEquals(2, backend.runCalls(), "each firing ran once");
        } finally {
            third.close();
        }
    }

    @Test
    void aFinishedEventsResultIsPostedToItsCallback() throws Exception {
        BlockingQueue<String> received = new ArrayBlockingQueue<>(4);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", exchange -> {
            received.add(exchange.getRequestHeaders().getFirst("X-Granda-Event") + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            deploy("echo");
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
            String id = events.submit("echo", InvocationRequest.of("hi"), null, url, "api").event().id();

            String got = received.poll(20, TimeUnit.SECONDS);
            assertNotNull(got, "callback received");
            assertTrue(got.startsWith(id + " "), got);
            assertTrue(got.contains("\"status\":\"succeeded\""), got);
            await(() -> "delivered 204".equals(events.event(id).orElseThrow().callbackStatus()),
                    () -> "the callback's outcome recorded");
            assertHeard("callback ", List.of("callback echo true delivered 204"));
            assertThrows(io.granda.core.InvalidFunctionSpecException.class,
                    () -> events.submit("echo", InvocationRequest.of("x"), null, "ftp://example.org/x", "api"));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void anAttemptCutShortByAStopRunsAgainAtTheNextStartCountedAsInterrupted() throws Exception {
        deploy("echo");
        InMemoryEventStore shared = new InMemoryEventStore();
        events.close();
        // The attempt's end is lost with the process: simulated by an event left running in the store.
        GrandaEvents first = GrandaEvents.builder(granda, shared).start();
        String id = first.submit("echo", InvocationRequest.of("again"), null, null, "api").event().id();
        await(() -> first.event(id).orElseThrow().status() == EventStatus.SUCCEEDED, () -> "first run");
        first.close();
        String stuck = shared.accept(new io.granda.core.async.NewEvent("zz-stuck-event", "default",
                granda.function("echo").orElseThrow().id(), "echo", "api", InvocationRequest.of("stuck"), null, null,
                clock.instant()), Duration.ofHours(1)).event().id();
        shared.start(stuck, 0, clock.instant());

        heard.lines.clear();
        GrandaEvents second = GrandaEvents.builder(granda, shared)
                .options(AsyncOptions.DEFAULTS.withPollInterval(Duration.ofMillis(20))).listener(heard).start();
        try {
            await(() -> second.event(stuck).orElseThrow().status() == EventStatus.SUCCEEDED, () -> "rerun");
            AsyncEvent e = second.event(stuck).orElseThrow();
            assertEquals(2, e.attempts());
            assertEquals(1, e.interruptedAttempts());
            assertEquals(0, e.failedAttempts());
            assertEquals(1, second.event(id).orElseThrow().attempts(), "a succeeded event is not run again");
            // The cut-short attempt is told once, by the start that finds it.
            assertHeard("", List.of("attempt echo interrupted", "attempt echo succeeded"));
        } finally {
            second.close();
        }
    }

    @Test
    void badPoliciesAreRefusedNamingTheField() {
        assertField("maxAttempts", () -> new AsyncPolicy(0, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 1,
                null, null));
        assertField("maxBackoffMs", () -> new AsyncPolicy(1, Duration.ofSeconds(2), Duration.ofSeconds(1),
                Duration.ofHours(1), 1, null, null));
        assertField("concurrency", () -> new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 0,
                null, null));
        assertField("schedule", () -> new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 1,
                "61 * * * *", null));
        assertField("callbackUrl", () -> new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 1,
                null, "not a url"));
        assertEquals(Map.of(), store.policies(), "nothing was stored");
    }

    private static void assertField(String field, Runnable r) {
        var e = assertThrows(io.granda.core.InvalidFunctionSpecException.class, r::run);
        assertEquals(field, e.field());
    }
}
