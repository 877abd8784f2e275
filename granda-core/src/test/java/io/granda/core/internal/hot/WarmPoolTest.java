package io.granda.core.internal.hot;

import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionNotReadyException;
import io.granda.core.FunctionSpec;
import io.granda.core.NoCapacityException;
import io.granda.core.PoolOptions;
import io.granda.core.ScalingPolicy;
import io.granda.core.ShuttingDownException;
import io.granda.core.spi.InstanceSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static io.granda.core.internal.hot.InstanceState.BUSY;
import static io.granda.core.internal.hot.InstanceState.GONE;
import static io.granda.core.internal.hot.InstanceState.PAUSED;
import static io.granda.core.internal.hot.InstanceState.PROVISIONING;
import static io.granda.core.internal.hot.InstanceState.READY;
import static io.granda.core.internal.hot.InstanceState.REMOVING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The warm pool against a scripted backend. Nothing here measures time: every wait is for an event (a latch, a count,
 * a state) and only bounded so that a broken pool fails the test instead of hanging it.
 */
class WarmPoolTest {

    /** Bound of every wait for something that should happen promptly. */
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(60);
    /** Roomy limits and a maintenance period so long that only the test calls maintain(). */
    private static final PoolOptions OPTIONS =
            new PoolOptions(100, 256, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofHours(1));

    private final ScriptedHotBackend backend = new ScriptedHotBackend();
    private final MutableClock clock = new MutableClock(T0);
    private final Removals removals = new Removals();
    private final List<WarmPool> pools = new ArrayList<>();

    @AfterEach
    void closePools() {
        backend.openGate();
        pools.forEach(WarmPool::close);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cold, warm, and the life of one instance

    @Test
    void firstCallStartsOneColdInstanceAndTheNextIsWarmOnTheSameOne() {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("orders", 1, scaling(0, 10, 1));
        backend.timings(Duration.ofMillis(300), Duration.ofMillis(200), Duration.ofMillis(100));

        Lease first = pool.acquire(f);
        assertEquals(1, backend.startsEntered());
        assertTrue(first.cold());
        assertEquals(Duration.ofMillis(300), first.imagePull());
        assertEquals(Duration.ofMillis(200), first.createStart());
        assertEquals(Duration.ofMillis(100), first.init());
        assertFalse(first.queueWait().isNegative());
        assertSame(f, first.instance().function());
        InstanceSpec spec = backend.startSpecs().getFirst();
        assertEquals(first.instance().id(), spec.instanceId());
        assertEquals(f.id(), spec.functionId());
        assertEquals(1, spec.revision());
        assertEquals(OPTIONS.startTimeout(), spec.startTimeout());
        assertEquals(List.of(view(first, 1, BUSY, 1, 1)), pool.instancesOf(f.id()));
        assertEquals(1, pool.liveInstances());

        pool.release(first, true);
        assertEquals(List.of(view(first, 1, READY, 0, 1)), pool.instancesOf(f.id()));

        Lease second = pool.acquire(f);
        assertFalse(second.cold());
        assertSame(first.instance(), second.instance());
        assertEquals(Duration.ZERO, second.imagePull());
        assertEquals(Duration.ZERO, second.createStart());
        assertEquals(Duration.ZERO, second.init());
        assertEquals(Duration.ZERO, second.queueWait());
        assertEquals(1, backend.startsEntered());
        assertEquals(List.of(view(first, 1, BUSY, 1, 2)), pool.instancesOf(f.id()));

        TransitionCounts t = pool.transitions();
        assertEquals(1, t.get(PROVISIONING, BUSY));
        assertEquals(1, t.get(BUSY, READY));
        assertEquals(1, t.get(READY, BUSY));
        assertEquals(Map.of(PROVISIONING, Map.of(BUSY, 1L), BUSY, Map.of(READY, 1L), READY, Map.of(BUSY, 1L)),
                t.snapshot());
    }

    @Test
    void withConcurrencyOneEachHeldLeaseHasItsOwnInstance() {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("one-at-a-time", 1, scaling(0, 10, 1));

        Lease a = pool.acquire(f);
        Lease b = pool.acquire(f);

        assertNotEquals(a.instance().id(), b.instance().id());
        assertTrue(a.cold());
        assertTrue(b.cold());
        assertEquals(2, backend.startsEntered());
        assertEquals(2, pool.liveInstances());
        for (WarmPool.InstanceView v : pool.instancesOf(f.id())) {
            assertEquals(BUSY, v.state());
            assertEquals(1, v.inFlight());
        }
    }

    @Test
    void withConcurrencyThreeThreeLeasesShareOneInstanceAndAFourthStartsAnother() {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("shared", 1, scaling(0, 10, 3));

        Lease a = pool.acquire(f);
        Lease b = pool.acquire(f);
        Lease c = pool.acquire(f);
        assertTrue(a.cold());
        assertFalse(b.cold());
        assertFalse(c.cold());
        assertSame(a.instance(), b.instance());
        assertSame(a.instance(), c.instance());
        assertEquals(1, backend.startsEntered());
        assertEquals(List.of(view(a, 1, BUSY, 3, 3)), pool.instancesOf(f.id()));

        Lease d = pool.acquire(f);
        assertTrue(d.cold());
        assertNotEquals(a.instance().id(), d.instance().id());
        assertEquals(2, backend.startsEntered());

        pool.release(b, true);
        Lease e = pool.acquire(f);
        assertFalse(e.cold());
        assertSame(a.instance(), e.instance(), "the busy instance with room is preferred to starting another");
        assertEquals(2, backend.startsEntered());
    }

    @Test
    void concurrentCallsWaitingForOneStartShareItUpToTheConcurrency() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("shared-start", 1, scaling(0, 10, 3));
        backend.holdStarts();

        List<CompletableFuture<Lease>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(async(() -> pool.acquire(f)));
        }
        eventually("three calls queued and a start asked for",
                () -> pool.queued(f.id()) == 3 && backend.startsEntered() >= 1);
        assertEquals(1, backend.startsEntered(), "one instance takes three calls: one start is enough");
        backend.openGate();

        Set<PooledInstance> instances = new HashSet<>();
        int cold = 0;
        for (CompletableFuture<Lease> c : calls) {
            Lease l = get(c);
            instances.add(l.instance());
            cold += l.cold() ? 1 : 0;
        }
        assertEquals(1, instances.size());
        assertEquals(1, cold, "the call that took the started instance first is the cold one");
        assertEquals(1, backend.startsEntered());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Bursts and the queue

    @Test
    void aBurstStartsExactlyTheMaximumAndEveryCallIsServedOnItsRevision() throws Exception {
        int calls = 64;
        int max = 16;
        WarmPool pool = pool(new PoolOptions(100, calls, Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofHours(1)));
        DeployedFunction f = fn("burst", 1, scaling(0, max, 1));
        backend.holdStarts();

        Map<String, AtomicInteger> inUse = new ConcurrentHashMap<>();
        List<String> problems = new CopyOnWriteArrayList<>();
        Set<String> instancesLeased = ConcurrentHashMap.newKeySet();
        AtomicInteger cold = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            done.add(async(() -> {
                go.await();
                Lease lease = pool.acquire(f);
                PooledInstance instance = lease.instance();
                if (instance.function().revision() != f.revision()) {
                    problems.add("lease on revision " + instance.function().revision());
                }
                if (inUse.computeIfAbsent(instance.id(), k -> new AtomicInteger()).incrementAndGet() != 1) {
                    problems.add("two calls at once on " + instance.id() + " with concurrency 1");
                }
                instancesLeased.add(instance.id());
                if (lease.cold()) {
                    cold.incrementAndGet();
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // the call itself
                inUse.get(instance.id()).decrementAndGet();
                pool.release(lease, true);
                return null;
            }));
        }
        go.countDown();

        eventually("every call queued and the maximum being started",
                () -> pool.queued(f.id()) == calls && backend.startsEntered() == max);
        assertThrows(NoCapacityException.class, () -> pool.acquire(f), "the queue holds " + calls + ", no more");
        assertEquals(calls, pool.queued(f.id()), "a refused call does not stay in the queue");
        backend.openGate();
        for (CompletableFuture<Void> d : done) {
            get(d);
        }

        assertEquals(List.of(), problems);
        assertEquals(max, backend.startsEntered(), "no more than the function's maximum is ever started");
        assertEquals(max, instancesLeased.size());
        assertEquals(max, cold.get(), "one cold lease per started instance, the others warm");
        assertEquals(max, pool.liveInstances());
        assertEquals(0, pool.queued(f.id()));
        for (WarmPool.InstanceView v : pool.instancesOf(f.id())) {
            assertEquals(READY, v.state());
            assertEquals(0, v.inFlight());
        }
        assertEquals(calls, pool.instancesOf(f.id()).stream().mapToLong(WarmPool.InstanceView::served).sum());
    }

    @Test
    void aBurstAcrossARevisionChangeNeverServesACallOnAnotherRevision() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction rev1 = fn("moving", 1, scaling(0, 8, 1));
        DeployedFunction rev2 = fn("moving", 2, scaling(0, 8, 1));

        Map<String, AtomicInteger> inUse = new ConcurrentHashMap<>();
        List<String> problems = new CopyOnWriteArrayList<>();
        AtomicInteger stale = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch someServed = new CountDownLatch(8);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            DeployedFunction asked = i % 2 == 0 ? rev1 : rev2;
            done.add(async(() -> {
                go.await();
                if (asked == rev2) {
                    someServed.await(); // rev-2 calls come once rev 1 is busy
                }
                Lease lease;
                try {
                    lease = pool.acquire(asked);
                } catch (WarmPool.StaleRevisionException e) {
                    if (asked != rev1) {
                        problems.add("revision 2 called stale");
                    }
                    stale.incrementAndGet();
                    return null;
                }
                someServed.countDown();
                PooledInstance instance = lease.instance();
                if (instance.function().revision() != asked.revision()) {
                    problems.add("asked revision " + asked.revision() + ", got " + instance.function().revision());
                }
                if (inUse.computeIfAbsent(instance.id(), k -> new AtomicInteger()).incrementAndGet() != 1) {
                    problems.add("two calls at once on " + instance.id());
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                inUse.get(instance.id()).decrementAndGet();
                pool.release(lease, true);
                return null;
            }));
        }
        go.countDown();
        for (CompletableFuture<Void> d : done) {
            get(d);
        }

        assertEquals(List.of(), problems);
        eventually("every revision-1 instance removed",
                () -> pool.instancesOf(rev1.id()).stream().allMatch(v -> v.revision() == 2));
        for (WarmPool.InstanceView v : pool.instancesOf(rev1.id())) {
            assertEquals(READY, v.state());
        }
        eventually("only revision-2 instances live", () -> pool.liveInstances() == pool.instancesOf(rev1.id()).size());
        assertThrows(WarmPool.StaleRevisionException.class, () -> pool.acquire(rev1));
    }

    @Test
    void aFullQueueRefusesTheCallAtOnceAndDoesNotKeepIt() throws Exception {
        WarmPool pool = pool(new PoolOptions(100, 2, Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofHours(1)));
        DeployedFunction f = fn("narrow", 1, scaling(0, 1, 1));
        backend.holdStarts();

        CompletableFuture<Lease> first = async(() -> pool.acquire(f));
        CompletableFuture<Lease> second = async(() -> pool.acquire(f));
        eventually("two calls queued and a start asked for",
                () -> pool.queued(f.id()) == 2 && backend.startsEntered() >= 1);

        NoCapacityException refused = assertThrows(NoCapacityException.class, () -> pool.acquire(f));
        assertEquals("no_capacity", refused.code());
        assertEquals(2, pool.queued(f.id()), "the refused call is not left in the queue");
        assertEquals(1, backend.startsEntered());

        backend.openGate();
        Lease a = (Lease) get(CompletableFuture.anyOf(first, second));
        CompletableFuture<Lease> other = first.isDone() && first.resultNow() == a ? second : first;
        assertEquals(1, pool.queued(f.id()));
        pool.release(a, true);
        Lease b = get(other);
        assertSame(a.instance(), b.instance());
        assertFalse(b.cold());
        assertEquals(0, pool.queued(f.id()));
    }

    @Test
    void noInstanceFreeWithinTheQueueWaitAndStartTimeoutIsNoCapacity() {
        WarmPool pool = pool(new PoolOptions(100, 10, Duration.ofMillis(20), Duration.ofMillis(20),
                Duration.ofHours(1)));
        DeployedFunction f = fn("slow-to-free", 1, scaling(0, 1, 1));
        Lease held = pool.acquire(f);

        assertThrows(NoCapacityException.class, () -> pool.acquire(f));

        assertEquals(0, pool.queued(f.id()), "a call that gave up is not left in the queue");
        pool.release(held, true);
        assertEquals(READY, pool.instancesOf(f.id()).getFirst().state(), "nobody is waiting for it any more");
        assertSame(held.instance(), pool.acquire(f).instance());
        assertEquals(1, backend.startsEntered());
    }

    @Test
    void anInterruptedWaiterLeavesTheQueueAndTakesNoInstance() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("interrupted", 1, scaling(0, 1, 1));
        backend.holdStarts();

        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread caller = Thread.ofVirtual().start(() -> {
            try {
                pool.acquire(f);
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        eventually("the call queued", () -> pool.queued(f.id()) == 1 && backend.startsEntered() == 1);
        caller.interrupt();
        assertTrue(caller.join(WAIT));
        assertInstanceOf(ShuttingDownException.class, thrown.get());

        eventually("the interrupted call left the queue", () -> pool.queued(f.id()) == 0);
        backend.openGate();
        eventually("the started instance is idle, not lent to the call that gave up",
                () -> pool.instancesOf(f.id()).size() == 1 && pool.instancesOf(f.id()).getFirst().state() == READY);
        assertEquals(0, pool.instancesOf(f.id()).getFirst().served());
        Lease next = pool.acquire(f);
        assertFalse(next.cold());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Failed calls

    @Test
    void anUnusableReleaseDestroysTheInstanceAndTheNextCallStartsAnother() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("crashy", 1, scaling(0, 10, 1));
        Lease broken = pool.acquire(f);

        pool.release(broken, false);

        PooledInstance gone = removals.await(1).getFirst();
        assertSame(broken.instance(), gone);
        assertEquals(GONE, gone.state());
        assertEquals(List.of(gone.id()), backend.destroyedIds());
        assertEquals(List.of(), pool.instancesOf(f.id()));
        assertEquals(0, pool.liveInstances());
        assertEquals(1, pool.transitions().get(BUSY, REMOVING));
        assertEquals(1, pool.transitions().get(REMOVING, GONE));

        Lease next = pool.acquire(f);
        assertTrue(next.cold());
        assertNotEquals(gone.id(), next.instance().id());
        assertEquals(2, backend.startsEntered());
        pool.release(next, true);
        Lease again = pool.acquire(f);
        assertSame(next.instance(), again.instance(), "the removed instance is never lent again");
        assertEquals(1, gone.served());
    }

    @Test
    void anUnusableReleaseWithACallWaitingStartsAReplacementForIt() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("crash-with-queue", 1, scaling(0, 1, 1));
        Lease broken = pool.acquire(f);
        CompletableFuture<Lease> waiting = async(() -> pool.acquire(f));
        eventually("the call queued", () -> pool.queued(f.id()) == 1);

        pool.release(broken, false);

        Lease served = get(waiting);
        assertNotEquals(broken.instance().id(), served.instance().id());
        assertTrue(served.cold());
        assertEquals(2, backend.startsEntered());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Keep-alive and minimums

    @Test
    void anIdleInstanceIsRemovedOnceItsKeepAliveHasPassedNotBefore() {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("idle", 1, scaling(0, 10, 1));
        pool.release(pool.acquire(f), true);

        pool.maintain();
        clock.advance(KEEP_ALIVE.minusSeconds(1));
        pool.maintain();
        assertEquals(1, pool.instancesOf(f.id()).size());
        assertEquals(0, backend.destroys());

        clock.advance(Duration.ofSeconds(1));
        pool.maintain();

        assertEquals(List.of(), pool.instancesOf(f.id()), "scaled to zero");
        assertEquals(1, backend.destroys());
        assertEquals(0, pool.liveInstances());
        assertEquals(1, pool.transitions().get(READY, REMOVING));
        Lease next = pool.acquire(f);
        assertTrue(next.cold(), "after scaling to zero a call starts an instance again");
    }

    @Test
    void aBusyInstanceIsNeverExpiredAndItsKeepAliveCountsFromItsRelease() {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("long-call", 1, scaling(0, 10, 1));
        Lease lease = pool.acquire(f);
        clock.advance(KEEP_ALIVE.multipliedBy(10));
        pool.maintain();
        assertEquals(BUSY, pool.instancesOf(f.id()).getFirst().state());

        pool.release(lease, true);
        clock.advance(KEEP_ALIVE.minusSeconds(1));
        pool.maintain();
        assertEquals(READY, pool.instancesOf(f.id()).getFirst().state());
        clock.advance(Duration.ofSeconds(1));
        pool.maintain();
        assertEquals(List.of(), pool.instancesOf(f.id()));
    }

    @Test
    void theMinimumIsKeptEvenWhenIdle() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("kept", 1, scaling(1, 10, 1));
        Lease a = pool.acquire(f);
        Lease b = pool.acquire(f);
        pool.release(a, true);
        clock.advance(Duration.ofSeconds(1));
        pool.release(b, true);

        clock.advance(KEEP_ALIVE.plusSeconds(1));
        pool.maintain();
        assertEquals(List.of(a.instance().id()), backend.destroyedIds(), "the longest idle goes first");
        assertEquals(List.of(view(b, 1, READY, 0, 1)), pool.instancesOf(f.id()));

        clock.advance(KEEP_ALIVE.multipliedBy(100));
        pool.maintain();
        assertEquals(List.of(view(b, 1, READY, 0, 1)), pool.instancesOf(f.id()), "the minimum never expires");
        assertEquals(1, backend.destroys());
        assertEquals(2, backend.startsEntered());
    }

    @Test
    void functionChangedPrewarmsTheMinimumWhoseFirstLeasesAreWarm() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("prewarmed", 1, scaling(2, 10, 1));

        pool.functionChanged(f);

        eventually("two prewarmed instances ready", () -> pool.instancesOf(f.id()).size() == 2
                && pool.instancesOf(f.id()).stream().allMatch(v -> v.state() == READY));
        assertEquals(2, backend.startsEntered());
        assertEquals(2, pool.transitions().get(PROVISIONING, READY));
        Lease a = pool.acquire(f);
        Lease b = pool.acquire(f);
        assertFalse(a.cold());
        assertFalse(b.cold());
        assertNotEquals(a.instance().id(), b.instance().id());
        assertEquals(2, backend.startsEntered());

        Lease c = pool.acquire(f);
        assertTrue(c.cold(), "a third call is beyond the prewarmed ones");
        assertEquals(3, backend.startsEntered());
    }

    @Test
    void maintenanceReplacesALostInstanceOfTheMinimum() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("replaced", 1, scaling(1, 10, 1));
        pool.functionChanged(f);
        eventually("the minimum is ready", () -> pool.instancesOf(f.id()).size() == 1
                && pool.instancesOf(f.id()).getFirst().state() == READY);
        Lease lease = pool.acquire(f);
        pool.release(lease, false);
        removals.await(1);

        pool.maintain();

        eventually("the minimum is ready again", () -> pool.instancesOf(f.id()).size() == 1
                && pool.instancesOf(f.id()).getFirst().state() == READY);
        assertEquals(2, backend.startsEntered());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Revisions

    @Test
    void aNewRevisionDestroysAnIdleOldInstanceAtOnce() {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction rev1 = fn("updated", 1, scaling(0, 10, 1));
        Lease old = pool.acquire(rev1);
        pool.release(old, true);

        pool.functionChanged(fn("updated", 2, scaling(0, 10, 1)));

        assertEquals(List.of(old.instance().id()), backend.destroyedIds());
        assertEquals(GONE, old.instance().state());
        assertEquals(List.of(), pool.instancesOf(rev1.id()));
        assertEquals(0, pool.liveInstances());
    }

    @Test
    void aBusyOldInstanceIsRemovedWhenReleasedAndNeverLentAgain() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction rev1 = fn("updated", 1, scaling(0, 10, 1));
        DeployedFunction rev2 = fn("updated", 2, scaling(0, 10, 1));
        Lease old = pool.acquire(rev1);

        pool.functionChanged(rev2);
        assertEquals(0, backend.destroys(), "its call is still under way");
        Lease current = pool.acquire(rev2);
        assertNotEquals(old.instance().id(), current.instance().id());
        assertEquals(2, current.instance().function().revision());
        pool.release(current, true);

        pool.release(old, true);

        assertSame(old.instance(), removals.await(1).getFirst());
        assertEquals(GONE, old.instance().state());
        assertEquals(1, old.instance().served());
        for (int i = 0; i < 3; i++) {
            Lease l = pool.acquire(rev2);
            assertSame(current.instance(), l.instance());
            pool.release(l, true);
        }
        assertEquals(List.of(new WarmPool.InstanceView(current.instance().id(), 2, READY, 0, 4)),
                pool.instancesOf(rev2.id()));
    }

    @Test
    void aCallForAnOlderRevisionIsStale() {
        WarmPool pool = pool(OPTIONS);
        pool.functionChanged(fn("updated", 2, scaling(0, 10, 1)));

        assertThrows(WarmPool.StaleRevisionException.class, () -> pool.acquire(fn("updated", 1, scaling(0, 10, 1))));
        assertEquals(0, backend.startsEntered());
        assertEquals(0, pool.queued("id-updated"));
    }

    @Test
    void aCallWaitingForTheOldRevisionIsToldItIsStaleAndItsStartingInstanceIsNeverServed() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction rev1 = fn("updated", 1, scaling(0, 10, 1));
        backend.holdStarts();
        CompletableFuture<Lease> waiting = async(() -> pool.acquire(rev1));
        eventually("the call queued", () -> pool.queued(rev1.id()) == 1 && backend.startsEntered() == 1);

        pool.functionChanged(fn("updated", 2, scaling(0, 10, 1)));

        assertInstanceOf(WarmPool.StaleRevisionException.class, failureOf(waiting));
        assertEquals(0, pool.queued(rev1.id()));
        backend.openGate();
        PooledInstance starting = removals.await(1).getFirst();
        assertEquals(0, starting.served());
        assertEquals(1, pool.transitions().get(PROVISIONING, REMOVING));
        assertEquals(0, pool.liveInstances());
    }

    @Test
    void aCallForANewerRevisionThanThePoolKnowsRetiresTheOldOne() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction rev1 = fn("routed-ahead", 1, scaling(0, 10, 1));
        DeployedFunction rev2 = fn("routed-ahead", 2, scaling(0, 10, 1));
        Lease idle = pool.acquire(rev1);
        Lease busy = pool.acquire(rev1);
        pool.release(idle, true);

        Lease current = pool.acquire(rev2);

        assertEquals(2, current.instance().function().revision());
        assertTrue(current.cold());
        assertSame(idle.instance(), removals.await(1).getFirst(), "the idle old instance is removed at once");
        assertThrows(WarmPool.StaleRevisionException.class, () -> pool.acquire(rev1));
        pool.release(busy, true);
        assertSame(busy.instance(), removals.await(2).get(1), "the busy one when its call ends");
        assertEquals(List.of(2L), pool.instancesOf(rev1.id()).stream().map(WarmPool.InstanceView::revision).toList());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Start failures

    @Test
    void aFailedStartFailsEveryCallWaitingForThatRevisionAndALaterCallTriesAgain() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("broken-image", 1, scaling(0, 1, 1));
        FunctionNotReadyException notReady = new FunctionNotReadyException("did not become ready", "no socket");
        backend.holdStarts();
        backend.failStartsWith(notReady);

        List<CompletableFuture<Lease>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(async(() -> pool.acquire(f)));
        }
        eventually("three calls queued", () -> pool.queued(f.id()) == 3);
        backend.openGate();

        for (CompletableFuture<Lease> c : calls) {
            assertSame(notReady, failureOf(c));
        }
        assertEquals(1, backend.startsEntered(), "one failed start answers every waiting call");
        assertEquals(0, pool.liveInstances());
        assertEquals(0, pool.queued(f.id()));
        assertEquals(List.of(), pool.instancesOf(f.id()));
        assertEquals(1, pool.transitions().get(PROVISIONING, GONE));

        backend.failStartsWith(null);
        Lease retry = pool.acquire(f);
        assertTrue(retry.cold());
        assertEquals(2, backend.startsEntered());
        assertEquals(1, pool.liveInstances());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Deletion

    @Test
    void functionDeletedFailsTheCallsWaitingForIt() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("doomed", 1, scaling(0, 10, 1));
        backend.holdStarts();
        CompletableFuture<Lease> waiting = async(() -> pool.acquire(f));
        eventually("the call queued", () -> pool.queued(f.id()) == 1 && backend.startsEntered() == 1);

        pool.functionDeleted(f.id());

        assertInstanceOf(FunctionNotFoundException.class, failureOf(waiting));
        assertThrows(FunctionNotFoundException.class, () -> pool.acquire(f));
        backend.openGate();
        PooledInstance starting = removals.await(1).getFirst();
        assertEquals(0, starting.served(), "an instance that finished starting after the deletion serves nothing");
        assertEquals(0, pool.liveInstances());
    }

    @Test
    void functionDeletedDestroysIdleInstancesAtOnceAndBusyOnesOnRelease() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("doomed", 1, scaling(0, 10, 1));
        Lease idle = pool.acquire(f);
        Lease busy = pool.acquire(f);
        pool.release(idle, true);

        pool.functionDeleted(f.id());

        assertEquals(List.of(idle.instance().id()), backend.destroyedIds());
        assertEquals(GONE, idle.instance().state());
        assertEquals(BUSY, busy.instance().state());
        pool.release(busy, true);
        assertSame(busy.instance(), removals.await(2).get(1));
        assertEquals(GONE, busy.instance().state());
        assertEquals(0, pool.liveInstances());
        assertEquals(List.of(), pool.instancesOf(f.id()));
    }

    // ---------------------------------------------------------------------------------------------------------
    // The total maximum

    @Test
    void atTheTotalMaximumAnIdleInstanceOfAnotherFunctionMakesRoom() throws Exception {
        WarmPool pool = pool(OPTIONS.withMaxInstancesTotal(1));
        DeployedFunction a = fn("a", 1, scaling(0, 10, 1));
        DeployedFunction b = fn("b", 1, scaling(0, 10, 1));
        Lease la = pool.acquire(a);
        pool.release(la, true);

        Lease lb = pool.acquire(b);

        assertEquals(b.id(), lb.instance().function().id());
        assertTrue(lb.cold());
        assertEquals(List.of(la.instance().id()), backend.destroyedIds());
        assertEquals(GONE, la.instance().state());
        assertEquals(List.of(), pool.instancesOf(a.id()));
        assertEquals(1, pool.liveInstances());
    }

    @Test
    void atTheTotalMaximumACallWaitsForABusyInstanceOfAnotherFunctionAndGivesUp() {
        WarmPool pool = pool(new PoolOptions(1, 10, Duration.ofMillis(20), Duration.ofMillis(20),
                Duration.ofHours(1)));
        DeployedFunction a = fn("a", 1, scaling(0, 10, 1));
        DeployedFunction b = fn("b", 1, scaling(0, 10, 1));
        Lease la = pool.acquire(a);

        assertThrows(NoCapacityException.class, () -> pool.acquire(b));

        assertEquals(0, pool.queued(b.id()));
        assertEquals(1, backend.startsEntered());
        assertEquals(List.of(view(la, 1, BUSY, 1, 1)), pool.instancesOf(a.id()));
        assertEquals(1, pool.liveInstances());
    }

    @Test
    void atTheTotalMaximumACallWaitingForAnotherFunctionIsServedOnceThatInstanceIsReleased() throws Exception {
        WarmPool pool = pool(new PoolOptions(1, 10, Duration.ofSeconds(3), Duration.ofSeconds(2),
                Duration.ofHours(1)));
        DeployedFunction a = fn("a", 1, scaling(0, 10, 1));
        DeployedFunction b = fn("b", 1, scaling(0, 10, 1));
        Lease la = pool.acquire(a);
        CompletableFuture<Lease> waiting = async(() -> pool.acquire(b));
        eventually("the call for b queued", () -> pool.queued(b.id()) == 1);

        pool.release(la, true);

        Lease lb = get(waiting);
        assertEquals(b.id(), lb.instance().function().id());
        assertEquals(GONE, la.instance().state());
        assertEquals(1, pool.liveInstances());
    }

    @Test
    void atTheTotalMaximumOnlyAsManyIdleInstancesAreEvictedAsTheWaitingCallsNeed() throws Exception {
        WarmPool pool = pool(OPTIONS.withMaxInstancesTotal(3));
        DeployedFunction a = fn("a", 1, scaling(0, 10, 1));
        DeployedFunction b = fn("b", 1, scaling(0, 10, 3));
        List<Lease> held = List.of(pool.acquire(a), pool.acquire(a), pool.acquire(a));
        held.forEach(l -> pool.release(l, true));
        backend.holdDestroys();

        List<CompletableFuture<Lease>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(async(() -> pool.acquire(b)));
            int queued = i + 1;
            eventually("call " + queued + " for b queued", () -> pool.queued(b.id()) == queued);
        }
        assertTrue(backend.awaitDestroysEntered(1, WAIT));
        backend.openDestroyGate();
        Set<PooledInstance> used = new HashSet<>();
        for (CompletableFuture<Lease> c : calls) {
            used.add(get(c).instance());
        }
        assertTrue(backend.awaitDestroys(1, WAIT));

        assertEquals(1, used.size(), "one instance of b takes all three calls");
        assertEquals(1, backend.destroys(), "one idle instance of a made room for it; the others stay warm");
        assertEquals(2, pool.instancesOf(a.id()).size());
        assertEquals(3, pool.liveInstances());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shutdown

    @Test
    void closeFailsWaitersAndDestroysEveryInstanceIncludingOneStillStarting() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction f = fn("closing", 1, scaling(0, 10, 1));
        DeployedFunction g = fn("closing-too", 1, scaling(0, 10, 1));
        Lease idle = pool.acquire(g);
        pool.release(idle, true);
        Lease busy = pool.acquire(f);
        backend.holdStarts();
        CompletableFuture<Lease> waiting = async(() -> pool.acquire(f));
        eventually("the call queued", () -> pool.queued(f.id()) == 1 && backend.startsEntered() == 3);
        String startingId = backend.startSpecs().get(2).instanceId();

        CompletableFuture<Void> closing = async(() -> {
            pool.close();
            return null;
        });

        assertInstanceOf(ShuttingDownException.class, failureOf(waiting));
        assertTrue(backend.awaitDestroys(2, WAIT));
        assertEquals(Set.of(idle.instance().id(), busy.instance().id()), Set.copyOf(backend.destroyedIds()));
        assertThrows(ShuttingDownException.class, () -> pool.acquire(f));
        assertFalse(closing.isDone(), "close waits for the instance still starting");

        backend.openGate();
        get(closing);

        assertEquals(3, backend.destroys());
        assertEquals(startingId, backend.destroyedIds().get(2));
        PooledInstance starting = removals.await(3).stream().filter(i -> i.id().equals(startingId)).findFirst()
                .orElseThrow();
        assertEquals(GONE, starting.state());
        assertEquals(0, starting.served(), "never served");
        assertEquals(0, pool.liveInstances());
        assertEquals(List.of(), pool.instancesOf(f.id()));
        assertEquals(List.of(), pool.instancesOf(g.id()));
        pool.release(busy, true); // a call that ends after close is harmless
        assertEquals(3, backend.destroys());
        assertThrows(ShuttingDownException.class, () -> pool.acquire(f));
        pool.close(); // idempotent
    }

    // ---------------------------------------------------------------------------------------------------------
    // The state machine

    @Test
    void theStateMachineAllowsExactlyTheDiagram() {
        assertEquals(EnumSet.of(READY, BUSY, REMOVING, GONE), PROVISIONING.next());
        assertEquals(EnumSet.of(BUSY, PAUSED, REMOVING), READY.next());
        assertEquals(EnumSet.of(READY, REMOVING), BUSY.next());
        assertEquals(EnumSet.of(READY, BUSY, REMOVING), PAUSED.next());
        assertEquals(EnumSet.of(GONE), REMOVING.next());
        assertEquals(EnumSet.noneOf(InstanceState.class), GONE.next());
        assertFalse(GONE.next().contains(READY));
        assertFalse(READY.next().contains(GONE), "an instance is always destroyed through REMOVING");
        for (InstanceState s : InstanceState.values()) {
            assertFalse(s.next().contains(s), s + " does not change to itself");
            assertEquals(s != GONE, s.isLive());
        }
    }

    @Test
    void moveToRefusesAForbiddenChangeAndCountsOnlyAllowedOnes() {
        TransitionCounts counts = new TransitionCounts();
        PooledInstance instance = new PooledInstance("i-1", fn("fsm", 1, scaling(0, 1, 1)), counts);
        instance.moveTo(READY);

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> instance.moveTo(GONE));
        assertTrue(e.getMessage().contains("READY") && e.getMessage().contains("GONE"), e.getMessage());
        assertEquals(READY, instance.state());

        instance.moveTo(REMOVING);
        instance.moveTo(GONE);
        assertThrows(IllegalStateException.class, () -> instance.moveTo(READY));
        assertThrows(IllegalStateException.class, () -> instance.moveTo(GONE));
        assertEquals(GONE, instance.state());
        assertEquals(Map.of(PROVISIONING, Map.of(READY, 1L), READY, Map.of(REMOVING, 1L), REMOVING, Map.of(GONE, 1L)),
                counts.snapshot());
        assertEquals(0, counts.get(READY, GONE));
        assertEquals(1, counts.entered(GONE));
    }

    // ---------------------------------------------------------------------------------------------------------
    // No lock around the backend

    @Test
    void noPoolLockIsHeldWhileTheBackendStartsAnInstance() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction a = fn("a", 1, scaling(0, 10, 1));
        DeployedFunction b = fn("b", 1, scaling(0, 10, 1));
        List<String> problems = new CopyOnWriteArrayList<>();
        AtomicInteger checked = new AtomicInteger();
        backend.onStart(spec -> {
            if (spec.functionId().equals(a.id())) {
                checkElsewhere(problems, "instancesOf(a) during a's start", () -> pool.instancesOf(a.id()));
                checkElsewhere(problems, "queued(a) during a's start", () -> pool.queued(a.id()));
                checkElsewhere(problems, "a call for b during a's start", () -> {
                    pool.release(pool.acquire(b), true);
                    return null;
                });
                checked.incrementAndGet();
            }
        });

        pool.release(pool.acquire(a), true); // on demand
        pool.functionChanged(fn("a", 2, scaling(1, 10, 1))); // prewarm
        eventually("the prewarm checked", () -> checked.get() == 2);

        assertEquals(List.of(), problems);
    }

    @Test
    void noPoolLockIsHeldWhileTheBackendDestroysAnInstance() throws Exception {
        WarmPool pool = pool(OPTIONS);
        DeployedFunction a = fn("a", 1, scaling(0, 10, 1));
        DeployedFunction b = fn("b", 1, scaling(1, 10, 1)); // its minimum never expires
        List<String> problems = new CopyOnWriteArrayList<>();
        backend.onDestroy(instance -> {
            checkElsewhere(problems, "instancesOf(a) during a destroy", () -> pool.instancesOf(a.id()));
            checkElsewhere(problems, "queued(a) during a destroy", () -> pool.queued(a.id()));
            checkElsewhere(problems, "a call for b during a destroy", () -> {
                try {
                    pool.release(pool.acquire(b), true);
                } catch (ShuttingDownException closing) {
                    // the close() path: refused at once, which is what matters here
                }
                return null;
            });
        });

        pool.release(pool.acquire(a), false); // a failed call
        assertTrue(backend.awaitDestroys(1, WAIT));
        pool.release(pool.acquire(a), true);
        clock.advance(KEEP_ALIVE);
        pool.maintain(); // keep-alive
        assertEquals(2, backend.destroys());
        pool.release(pool.acquire(a), true);
        DeployedFunction a2 = fn("a", 2, scaling(0, 10, 1));
        pool.functionChanged(a2); // a new revision
        assertEquals(3, backend.destroys());
        pool.release(pool.acquire(a2), true);
        pool.functionDeleted(a.id()); // deletion
        assertEquals(4, backend.destroys());
        pool.close(); // shutdown (b's instance)
        assertEquals(5, backend.destroys());

        assertEquals(List.of(), problems);
    }

    @Test
    void noPoolLockIsHeldWhileTheBackendDestroysAnEvictedInstance() throws Exception {
        WarmPool pool = pool(OPTIONS.withMaxInstancesTotal(1));
        DeployedFunction a = fn("a", 1, scaling(0, 10, 1));
        DeployedFunction b = fn("b", 1, scaling(0, 10, 1));
        pool.release(pool.acquire(a), true);
        List<String> problems = new CopyOnWriteArrayList<>();
        backend.onDestroy(instance -> {
            checkElsewhere(problems, "instancesOf(a) while evicting", () -> pool.instancesOf(a.id()));
            checkElsewhere(problems, "instancesOf(b) while evicting for it", () -> pool.instancesOf(b.id()));
            checkElsewhere(problems, "queued(b) while evicting for it", () -> pool.queued(b.id()));
        });

        Lease lb = pool.acquire(b);

        assertEquals(b.id(), lb.instance().function().id());
        assertEquals(1, backend.destroys());
        assertEquals(List.of(), problems);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private WarmPool pool(PoolOptions options) {
        WarmPool pool = new WarmPool(backend, clock, options, removals);
        pools.add(pool);
        return pool;
    }

    private static ScalingPolicy scaling(int min, int max, int concurrency) {
        return new ScalingPolicy(KEEP_ALIVE, min, max, concurrency);
    }

    private static DeployedFunction fn(String name, long revision, ScalingPolicy scaling) {
        FunctionSpec spec = FunctionSpec.builder(name).image("granda/hot-echo:test").mode(ExecutionMode.HOT)
                .scaling(scaling).build();
        return new DeployedFunction("id-" + name, name, revision, name + "-route", spec, T0, T0);
    }

    private static WarmPool.InstanceView view(Lease lease, long revision, InstanceState state, int inFlight,
                                              long served) {
        return new WarmPool.InstanceView(lease.instance().id(), revision, state, inFlight, served);
    }

    /** Runs on a virtual thread of its own. */
    private static <T> CompletableFuture<T> async(Callable<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private static <T> T get(Future<T> future) throws Exception {
        try {
            return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("expected a result, got " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("no result within " + WAIT);
        }
    }

    private static Throwable failureOf(Future<?> future) throws Exception {
        try {
            Object value = future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected a failure, got " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return fail("no failure within " + WAIT);
        }
    }

    /**
     * Runs {@code call} on another thread and waits a bounded time for it: if the calling thread held a lock the call
     * needs, it would block, and the problem is noted.
     */
    private static void checkElsewhere(List<String> problems, String what, Callable<?> call) {
        CompletableFuture<?> done = async(call);
        try {
            done.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            problems.add(what + " blocked");
        } catch (ExecutionException e) {
            problems.add(what + " failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add(what + " interrupted");
        }
    }

    /** Waits, bounded, for a condition that another thread makes true. */
    private static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT + ": " + what);
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
        }
    }

    /** Records the instances the pool reports gone, in order. */
    private static final class Removals implements Consumer<PooledInstance> {
        private final List<PooledInstance> removed = new ArrayList<>();

        @Override
        public synchronized void accept(PooledInstance instance) {
            removed.add(instance);
            notifyAll();
        }

        /** @return the first {@code n} removed instances, once there are that many */
        synchronized List<PooledInstance> await(int n) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (removed.size() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("only " + removed.size() + " of " + n + " instances removed within " + WAIT);
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return List.copyOf(removed.subList(0, n));
        }
    }
}
