package io.granda.core.internal.hot;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.GrandaException;
import io.granda.core.Ids;
import io.granda.core.NoCapacityException;
import io.granda.core.PoolOptions;
import io.granda.core.ScalingPolicy;
import io.granda.core.ShuttingDownException;
import io.granda.core.spi.Backend;
import io.granda.core.spi.CpuMeter;
import io.granda.core.spi.HotInstance;
import io.granda.core.spi.InstanceSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The warm pool: hot instances of every function, kept between calls, started on demand and removed when idle.
 * Backend-agnostic: it only asks the {@link Backend} to start and destroy instances. Not API. Thread-safe.
 *
 * <p>Rules, per function (see {@link ScalingPolicy}):
 * <ul>
 *   <li>An instance serves one revision for its whole life. A call for an older revision than the newest the pool
 *       has seen is refused with {@link StaleRevisionException} (the caller looks the function up again); instances
 *       of older revisions take no new calls and are removed as soon as their calls end.</li>
 *   <li>A call takes a free instance (one with fewer calls under way than the function's concurrency), newest-used
 *       first so that surplus instances stay idle and expire; otherwise it waits in a bounded queue while instances
 *       are started for the waiters, up to the function's maximum and the pool's total. A full queue, or a wait
 *       longer than {@link PoolOptions#maxQueueWait()} plus the start timeout, is {@link NoCapacityException}.</li>
 *   <li>An instance that failed a call in a way that leaves it in doubt (timeout, crash, invalid answer) is
 *       removed, never reused.</li>
 *   <li>Idle instances beyond the function's minimum are removed after its keep-alive; the minimum is kept started
 *       (prewarmed) by a maintenance task.</li>
 * </ul>
 *
 * <p>Locking: each function has its own {@link ReentrantLock}; no backend call and no I/O ever happens under it. The
 * total number of instances is an atomic counter.
 */
public final class WarmPool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WarmPool.class);
    /** After an instance of a function failed to start, its minimum is not topped up again for this long. */
    private static final Duration PREWARM_BACKOFF = Duration.ofSeconds(30);

    private final Backend backend;
    private final Clock clock;
    private final PoolOptions options;
    private final TransitionCounts transitions = new TransitionCounts();
    private final Map<String, FunctionPool> pools = new ConcurrentHashMap<>();
    /** Instances in any state but GONE, across all functions; never above the total maximum. */
    private final AtomicInteger liveInstances = new AtomicInteger();
    /** Bumped whenever room may have appeared (a slot freed, an instance idle), so an eviction finding none retries. */
    private final AtomicLong capacityChanges = new AtomicLong();
    private final Thread maintenance;
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final Condition maintenanceWake = lifecycle.newCondition();
    private volatile boolean closed;
    private final Consumer<PooledInstance> onRemoved;

    /**
     * @param backend   starts and destroys the instances; must have HOT_INSTANCES
     * @param clock     time source for idleness
     * @param options   pool-wide settings
     * @param onRemoved called after an instance is gone (e.g. to close its connections); may be a no-op
     */
    public WarmPool(Backend backend, Clock clock, PoolOptions options, Consumer<PooledInstance> onRemoved) {
        this.backend = Objects.requireNonNull(backend);
        this.clock = Objects.requireNonNull(clock);
        this.options = Objects.requireNonNull(options);
        this.onRemoved = Objects.requireNonNull(onRemoved);
        this.maintenance = Thread.ofPlatform().name("granda-pool-maintenance").daemon(true).unstarted(this::maintainLoop);
        this.maintenance.start();
    }

    /** One function's instances and waiting calls; every field is guarded by {@link #lock}. */
    private static final class FunctionPool {
        final String functionId;
        final ReentrantLock lock = new ReentrantLock();
        DeployedFunction latest;
        boolean deleted;
        final List<PooledInstance> instances = new ArrayList<>();
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
        /** When an instance of this function last failed to start ({@link System#nanoTime()}), 0 if never. */
        long lastStartFailureNanos;
        /** Evictions asked for on this function's behalf and not yet done: each will make room for one instance. */
        int evictions;

        FunctionPool(String functionId) {
            this.functionId = functionId;
        }
    }

    /** A call waiting for an instance; guarded by its function pool's lock. */
    private static final class Waiter {
        final DeployedFunction function;
        final long sinceNanos = System.nanoTime();
        final Condition wake;
        Lease lease;
        RuntimeException failure;

        Waiter(DeployedFunction function, Condition wake) {
            this.function = function;
            this.wake = wake;
        }
    }

    /** A call for a revision older than the newest one the pool has seen: look the function up again. */
    public static final class StaleRevisionException extends RuntimeException {
        StaleRevisionException(String message) {
            super(message, null, false, false);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Calls

    /**
     * Takes an instance of exactly this revision for one call, starting one when none is free and the limits allow.
     *
     * @param function the revision to run
     * @return the lease; give it back with {@link #release(Lease, boolean)}
     * @throws StaleRevisionException  when a newer revision of the function exists
     * @throws NoCapacityException     when the queue is full or no instance became free in time
     * @throws GrandaException         what starting an instance failed with (not ready, image, backend down)
     * @throws ShuttingDownException   after {@link #close()}
     */
    public Lease acquire(DeployedFunction function) {
        FunctionPool pool = poolOf(function);
        pool.lock.lock();
        Waiter waiter = null;
        Lease abandoned = null;
        try {
            checkUsable(pool, function);
            PooledInstance free = freeInstance(pool, function);
            if (free != null && pool.waiters.isEmpty()) {
                return lease(free, false, Duration.ZERO);
            }
            if (pool.waiters.size() >= options.queueCapacity()) {
                throw new NoCapacityException("function '" + function.name() + "' has " + pool.waiters.size()
                        + " calls waiting for an instance, the most the queue holds; try again later");
            }
            waiter = new Waiter(function, pool.lock.newCondition());
            pool.waiters.addLast(waiter);
            dispatch(pool);
            long deadline = waiter.sinceNanos + options.maxQueueWait().toNanos() + options.startTimeout().toNanos();
            while (waiter.lease == null && waiter.failure == null) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    pool.waiters.remove(waiter);
                    throw new NoCapacityException("no instance of function '" + function.name() + "' became free within "
                            + toSeconds(options.maxQueueWait().plus(options.startTimeout())) + " s; try again later");
                }
                waiter.wake.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            // Leave the queue, or an instance would later be lent to a call nobody makes and stay BUSY for good. A
            // lease handed over while this thread was waking up is given back below, outside the lock.
            pool.waiters.remove(waiter);
            abandoned = waiter.lease;
            Thread.currentThread().interrupt();
            throw new ShuttingDownException("interrupted while waiting for an instance", e);
        } finally {
            pool.lock.unlock();
            if (abandoned != null) {
                release(abandoned, true);
            }
        }
        if (waiter.failure != null) {
            throw waiter.failure;
        }
        return waiter.lease;
    }

    /**
     * Gives an instance back after a call.
     *
     * @param lease  the lease from {@link #acquire}
     * @param usable false when the call left the instance in doubt (timeout, crash, invalid answer): it is removed
     */
    public void release(Lease lease, boolean usable) {
        PooledInstance instance = lease.instance();
        FunctionPool pool = pools.get(instance.function().id());
        if (pool == null) {
            return; // removed with its function meanwhile
        }
        boolean becameIdle = false;
        pool.lock.lock();
        try {
            instance.inFlight(instance.inFlight() - 1);
            if (!instance.state().isLive() || instance.state() == InstanceState.REMOVING) {
                return;
            }
            if (!usable) {
                remove(pool, instance, "its call failed");
                dispatch(pool);
                return;
            }
            if (instance.retired() || isOlderThanLatest(pool, instance)) {
                if (instance.inFlight() == 0) {
                    remove(pool, instance, "its revision was replaced");
                }
                return;
            }
            Waiter next = firstWaiterFor(pool, instance.function());
            if (next != null) {
                pool.waiters.remove(next);
                next.lease = lease(instance, false, Duration.ofNanos(System.nanoTime() - next.sinceNanos));
                next.wake.signal();
            } else if (instance.inFlight() == 0) {
                instance.moveTo(InstanceState.READY);
                instance.idleSince(clock.instant());
                becameIdle = true;
            }
        } finally {
            pool.lock.unlock();
        }
        if (becameIdle) {
            onIdleAtTotal();
        }
    }

    private Lease lease(PooledInstance instance, boolean cold, Duration queueWait) {
        if (instance.state() == InstanceState.READY || instance.state() == InstanceState.PROVISIONING) {
            instance.moveTo(InstanceState.BUSY);
        }
        instance.inFlight(instance.inFlight() + 1);
        instance.servedOneMore();
        if (!cold) {
            return new Lease(instance, false, queueWait, Duration.ZERO, Duration.ZERO, Duration.ZERO);
        }
        HotInstance s = instance.started();
        Duration start = s.imagePull().plus(s.createStart()).plus(s.init());
        Duration beyondStart = queueWait.minus(start);
        return new Lease(instance, true, beyondStart.isNegative() ? Duration.ZERO : beyondStart, s.imagePull(),
                s.createStart(), s.init());
    }

    private PooledInstance freeInstance(FunctionPool pool, DeployedFunction function) {
        int concurrency = function.spec().scaling().concurrency();
        PooledInstance best = null;
        for (PooledInstance i : pool.instances) {
            if (i.function().revision() != function.revision() || i.retired()) {
                continue;
            }
            InstanceState s = i.state();
            if ((s == InstanceState.READY || s == InstanceState.BUSY) && i.inFlight() < concurrency) {
                // Most recently used first: the others stay idle long enough to expire (scale down).
                if (best == null || newer(i, best)) {
                    best = i;
                }
            }
        }
        return best;
    }

    private static boolean newer(PooledInstance a, PooledInstance b) {
        if (a.state() == InstanceState.BUSY) {
            return b.state() != InstanceState.BUSY;
        }
        if (b.state() == InstanceState.BUSY) {
            return false;
        }
        return a.idleSince() != null && (b.idleSince() == null || a.idleSince().isAfter(b.idleSince()));
    }

    private Waiter firstWaiterFor(FunctionPool pool, DeployedFunction function) {
        for (Waiter w : pool.waiters) {
            if (w.function.revision() == function.revision()) {
                return w;
            }
        }
        return null;
    }

    /**
     * Hands free instances to waiters in arrival order, then starts instances for the waiters still unserved, within
     * the function's maximum and the pool's total. Called under the pool's lock.
     */
    private void dispatch(FunctionPool pool) {
        DeployedFunction latest = pool.latest;
        while (!pool.waiters.isEmpty()) {
            Waiter w = pool.waiters.peekFirst();
            PooledInstance free = freeInstance(pool, w.function);
            if (free == null) {
                break;
            }
            pool.waiters.pollFirst();
            w.lease = lease(free, false, Duration.ofNanos(System.nanoTime() - w.sinceNanos));
            w.wake.signal();
        }
        if (pool.waiters.isEmpty() || latest == null) {
            return;
        }
        ScalingPolicy scaling = latest.spec().scaling();
        int provisioning = 0;
        int current = 0;
        for (PooledInstance i : pool.instances) {
            if (i.function().revision() == latest.revision() && !i.retired()) {
                current++;
                if (i.state() == InstanceState.PROVISIONING) {
                    provisioning++;
                }
            }
        }
        // Each waiter beyond what the instances being started will serve gets an instance of its own, if allowed.
        // An eviction under way counts as an instance being started, or every call dispatching meanwhile would evict
        // one more idle instance of another function.
        int wanted = pool.waiters.size() - (provisioning + pool.evictions) * scaling.concurrency();
        while (wanted > 0 && current + pool.evictions < scaling.maxInstances()) {
            if (!reserveSlot()) {
                // The total is reached: make room by removing an idle instance of another function, if any. Done on
                // a virtual thread because it takes other functions' locks; the freed slot dispatches us again.
                pool.evictions++;
                Thread.ofVirtual().name("granda-evict").start(() -> evictOneIdle(pool));
                break;
            }
            provision(pool, latest, false);
            current++;
            wanted -= scaling.concurrency();
        }
    }

    /**
     * Removes the longest-idle instance of the first other function that has one above its minimum, and offers the
     * freed slot to {@code requester} first. Holds no lock on entry.
     */
    private void evictOneIdle(FunctionPool requester) {
        long changesBefore = capacityChanges.get();
        for (FunctionPool other : pools.values()) {
            if (other == requester) {
                continue;
            }
            PooledInstance victim = null;
            other.lock.lock();
            try {
                if (other.latest == null) {
                    continue;
                }
                int live = 0;
                for (PooledInstance i : other.instances) {
                    if (!i.retired()) {
                        live++;
                    }
                }
                for (PooledInstance i : other.instances) {
                    boolean idle = i.state() == InstanceState.READY || i.state() == InstanceState.PAUSED;
                    boolean aboveMin = i.retired() || live > other.latest.spec().scaling().minInstances();
                    if (idle && aboveMin && (victim == null || i.idleSince().isBefore(victim.idleSince()))) {
                        victim = i;
                    }
                }
                if (victim != null) {
                    victim.retire();
                    victim.moveTo(InstanceState.REMOVING);
                    other.instances.remove(victim);
                }
            } finally {
                other.lock.unlock();
            }
            if (victim != null) {
                LOG.atDebug().addKeyValue("function", victim.function().name()).addKeyValue("instance", victim.id())
                        .log("removing an idle instance to make room for another function");
                destroy(victim, requester);
                return;
            }
        }
        requester.lock.lock();
        try {
            requester.evictions--;
            // Nothing to evict. Room that appeared during the search was offered to the requester while this eviction
            // still counted, so it was not taken: look again. Otherwise the next release or removal dispatches it.
            if (capacityChanges.get() != changesBefore && !closed && !requester.waiters.isEmpty()) {
                dispatch(requester);
            }
        } finally {
            requester.lock.unlock();
        }
    }

    private boolean reserveSlot() {
        while (true) {
            int n = liveInstances.get();
            if (n >= options.maxInstancesTotal()) {
                return false;
            }
            if (liveInstances.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Starts an instance on a virtual thread; the slot is already reserved. Called under the pool's lock. */
    private void provision(FunctionPool pool, DeployedFunction function, boolean prewarm) {
        PooledInstance instance = new PooledInstance(Ids.newTimeOrderedId(clock.instant()), function, transitions);
        pool.instances.add(instance);
        InstanceSpec spec = new InstanceSpec(instance.id(), function.id(), function.name(), function.revision(),
                function.spec().image(), function.spec().env(), function.spec().memoryMb(), options.startTimeout());
        LOG.atDebug().addKeyValue("function", function.name()).addKeyValue("revision", function.revision())
                .addKeyValue("instance", instance.id()).addKeyValue("prewarm", prewarm).log("starting instance");
        Thread.ofVirtual().name("granda-start-" + instance.id()).start(() -> {
            HotInstance started;
            try {
                started = backend.startInstance(spec);
            } catch (RuntimeException e) {
                onStartFailed(pool, instance, e);
                return;
            } catch (Error e) {
                // The slot and the waiters must not leak even then; the error itself still goes up.
                onStartFailed(pool, instance, new IllegalStateException("starting an instance failed: " + e, e));
                throw e;
            }
            // Opened off the pool's lock: a backend may touch the file system for it.
            instance.cpuMeter(cpuMeterOf(started));
            onStarted(pool, instance, started);
        });
    }

    private CpuMeter cpuMeterOf(HotInstance started) {
        try {
            return backend.cpuMeter(started);
        } catch (RuntimeException e) {
            LOG.atDebug().addKeyValue("instance", started.instanceId()).addKeyValue("reason", e.getMessage())
                    .log("no CPU meter for instance");
            return CpuMeter.UNKNOWN;
        }
    }

    private void onStarted(FunctionPool pool, PooledInstance instance, HotInstance started) {
        boolean destroyNow = false;
        boolean becameIdle = false;
        pool.lock.lock();
        try {
            instance.started(started);
            if (closed || pool.deleted || instance.retired() || isOlderThanLatest(pool, instance)) {
                // Its function changed or went away while it started: it must not serve anything.
                instance.moveTo(InstanceState.REMOVING);
                pool.instances.remove(instance);
                destroyNow = true;
            } else {
                Waiter w = firstWaiterFor(pool, instance.function());
                if (w != null) {
                    pool.waiters.remove(w);
                    w.lease = lease(instance, true, Duration.ofNanos(System.nanoTime() - w.sinceNanos));
                    w.wake.signal();
                    // With concurrency > 1 the same instance can take more of the queue at once.
                    dispatch(pool);
                } else {
                    instance.moveTo(InstanceState.READY);
                    instance.idleSince(clock.instant());
                    becameIdle = true;
                }
                LOG.atDebug().addKeyValue("function", instance.function().name()).addKeyValue("instance", instance.id())
                        .addKeyValue("startMs", started.createStart().plus(started.init()).toMillis())
                        .log("instance ready");
            }
        } finally {
            pool.lock.unlock();
        }
        if (destroyNow) {
            destroy(instance);
        } else if (becameIdle) {
            onIdleAtTotal();
        }
    }

    private void onStartFailed(FunctionPool pool, PooledInstance instance, RuntimeException failure) {
        pool.lock.lock();
        try {
            instance.moveTo(InstanceState.GONE);
            pool.instances.remove(instance);
            liveInstances.decrementAndGet();
            pool.lastStartFailureNanos = System.nanoTime();
            boolean healthyOnes = false;
            for (PooledInstance i : pool.instances) {
                if (i.function().revision() == instance.function().revision() && !i.retired()
                        && (i.state() == InstanceState.READY || i.state() == InstanceState.BUSY)) {
                    healthyOnes = true;
                    break;
                }
            }
            // With no instance of this revision serving, every call waiting for it would meet the same failure (a
            // broken image, an engine that is down): tell them all now instead of starting one failing instance
            // after another. With healthy instances the failure may be passing: only the oldest waiter hears of it,
            // the others keep their place for the instances that work.
            for (Iterator<Waiter> it = pool.waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.function.revision() == instance.function().revision()) {
                    it.remove();
                    w.failure = failure;
                    w.wake.signal();
                    if (healthyOnes) {
                        break;
                    }
                }
            }
        } finally {
            pool.lock.unlock();
        }
        LOG.atWarn().addKeyValue("function", instance.function().name()).addKeyValue("instance", instance.id())
                .addKeyValue("reason", failure.getMessage()).log("instance did not start");
        onSlotFreed();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Functions changing

    /**
     * Tells the pool about a function's newest revision (a deploy or an update): older revisions take no new calls
     * and their instances are removed as their calls end; calls waiting for an older revision are told to look the
     * function up again; the minimum of the new revision is started.
     *
     * @param function the newest revision
     */
    public void functionChanged(DeployedFunction function) {
        FunctionPool pool = poolOf(function);
        List<PooledInstance> toDestroy = new ArrayList<>();
        pool.lock.lock();
        try {
            if (pool.latest == null || function.revision() >= pool.latest.revision()) {
                pool.latest = function;
                pool.deleted = false;
            }
            retireOlder(pool, toDestroy);
            topUp(pool);
        } finally {
            pool.lock.unlock();
        }
        toDestroy.forEach(this::destroy);
    }

    /**
     * Removes every instance of a deleted function; calls waiting for it fail with {@link FunctionNotFoundException}.
     *
     * @param functionId the function's id
     */
    public void functionDeleted(String functionId) {
        FunctionPool pool = pools.get(functionId);
        if (pool == null) {
            return;
        }
        List<PooledInstance> toDestroy = new ArrayList<>();
        pool.lock.lock();
        try {
            pool.deleted = true;
            for (Waiter w : pool.waiters) {
                w.failure = new FunctionNotFoundException("function '" + w.function.name() + "' was deleted");
                w.wake.signal();
            }
            pool.waiters.clear();
            for (PooledInstance i : List.copyOf(pool.instances)) {
                i.retire();
                if (i.state() == InstanceState.READY || i.state() == InstanceState.PAUSED) {
                    i.moveTo(InstanceState.REMOVING);
                    pool.instances.remove(i);
                    toDestroy.add(i);
                }
            }
        } finally {
            pool.lock.unlock();
        }
        toDestroy.forEach(this::destroy);
    }

    /** Retires instances of revisions older than the latest and fails waiters for them. Under the pool's lock. */
    private void retireOlder(FunctionPool pool, List<PooledInstance> toDestroy) {
        long latest = pool.latest.revision();
        for (PooledInstance i : List.copyOf(pool.instances)) {
            if (i.function().revision() < latest && !i.retired()) {
                i.retire();
                if (i.state() == InstanceState.READY || i.state() == InstanceState.PAUSED) {
                    i.moveTo(InstanceState.REMOVING);
                    pool.instances.remove(i);
                    toDestroy.add(i);
                }
                // BUSY ones are removed by release(); PROVISIONING ones by onStarted().
            }
        }
        for (Iterator<Waiter> it = pool.waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.function.revision() < latest) {
                it.remove();
                w.failure = new StaleRevisionException("function '" + w.function.name() + "' is now at revision " + latest);
                w.wake.signal();
            }
        }
    }

    private boolean isOlderThanLatest(FunctionPool pool, PooledInstance instance) {
        return pool.latest != null && instance.function().revision() < pool.latest.revision();
    }

    private void checkUsable(FunctionPool pool, DeployedFunction function) {
        if (closed) {
            throw new ShuttingDownException("Granda is shutting down and takes no new calls");
        }
        if (pool.latest == null || function.revision() > pool.latest.revision()) {
            // The pool learns of revisions from calls too, so a call is never served by an older revision than the
            // one it was routed with.
            List<PooledInstance> toDestroy = new ArrayList<>();
            pool.latest = function;
            pool.deleted = false;
            retireOlder(pool, toDestroy);
            // Destroying needs the backend, never under the lock: hand it to a virtual thread.
            if (!toDestroy.isEmpty()) {
                Thread.ofVirtual().start(() -> toDestroy.forEach(this::destroy));
            }
        } else if (function.revision() < pool.latest.revision()) {
            throw new StaleRevisionException("function '" + function.name() + "' is now at revision "
                    + pool.latest.revision() + ", not " + function.revision());
        }
        if (pool.deleted) {
            throw new FunctionNotFoundException("function '" + function.name() + "' was deleted");
        }
    }

    private FunctionPool poolOf(DeployedFunction function) {
        return pools.computeIfAbsent(function.id(), FunctionPool::new);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Removal, idleness and minimums

    /** Takes an instance out of service and destroys it on a virtual thread. Under the pool's lock. */
    private void remove(FunctionPool pool, PooledInstance instance, String why) {
        instance.retire();
        instance.moveTo(InstanceState.REMOVING);
        pool.instances.remove(instance);
        LOG.atDebug().addKeyValue("function", instance.function().name()).addKeyValue("instance", instance.id())
                .addKeyValue("reason", why).log("removing instance");
        Thread.ofVirtual().name("granda-remove-" + instance.id()).start(() -> destroy(instance));
    }

    /** Destroys a REMOVING instance through the backend, then frees its slot. Never under a lock. */
    private void destroy(PooledInstance instance) {
        destroy(instance, null);
    }

    /**
     * Destroys a REMOVING instance through the backend, then frees its slot, offering it first to the function it was
     * evicted for (if any). Never under a lock.
     */
    private void destroy(PooledInstance instance, FunctionPool evictedFor) {
        try {
            if (instance.started() != null) {
                backend.destroyInstance(instance.started());
            }
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).addKeyValue("instance", instance.id()).log("destroying an instance failed");
        }
        FunctionPool pool = pools.get(instance.function().id());
        ReentrantLock lock = pool != null ? pool.lock : new ReentrantLock();
        lock.lock();
        try {
            instance.moveTo(InstanceState.GONE);
        } finally {
            lock.unlock();
        }
        liveInstances.decrementAndGet();
        instance.cpuMeter().close();
        try {
            onRemoved.accept(instance);
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).addKeyValue("instance", instance.id()).log("cleanup after removal failed");
        }
        if (evictedFor != null) {
            evictedFor.lock.lock();
            try {
                evictedFor.evictions--;
                if (!closed && !evictedFor.waiters.isEmpty()) {
                    dispatch(evictedFor);
                }
            } finally {
                evictedFor.lock.unlock();
            }
        }
        onSlotFreed();
    }

    /**
     * An instance became idle. At the total maximum, calls of other functions may be waiting for a slot that only
     * evicting an idle instance can free, and nothing else would wake them: dispatch them again (each evicts if it
     * still needs room). Holds no lock on entry.
     */
    private void onIdleAtTotal() {
        capacityChanges.incrementAndGet();
        if (liveInstances.get() >= options.maxInstancesTotal()) {
            onSlotFreed();
        }
    }

    /** A slot in the total maximum came free: functions whose calls wait for one may start an instance now. */
    private void onSlotFreed() {
        capacityChanges.incrementAndGet();
        if (closed) {
            return;
        }
        for (FunctionPool pool : pools.values()) {
            // Callers hold no pool lock, so waiting for each in turn cannot deadlock.
            pool.lock.lock();
            try {
                if (!pool.waiters.isEmpty()) {
                    dispatch(pool);
                }
            } finally {
                pool.lock.unlock();
            }
        }
    }

    /**
     * Removes instances idle longer than their function's keep-alive (keeping each function's minimum), and starts
     * instances to bring each function up to its minimum. Runs every {@link PoolOptions#maintenancePeriod()}; tests
     * call it directly with a fake clock.
     */
    public void maintain() {
        Instant now = clock.instant();
        for (FunctionPool pool : pools.values()) {
            List<PooledInstance> expired = new ArrayList<>();
            pool.lock.lock();
            try {
                if (pool.latest == null || pool.deleted || closed) {
                    continue;
                }
                ScalingPolicy scaling = pool.latest.spec().scaling();
                List<PooledInstance> idle = new ArrayList<>();
                int live = 0;
                for (PooledInstance i : pool.instances) {
                    if (i.function().revision() == pool.latest.revision() && !i.retired()) {
                        live++;
                        if (i.state() == InstanceState.READY || i.state() == InstanceState.PAUSED) {
                            idle.add(i);
                        }
                    }
                }
                idle.sort(Comparator.comparing(PooledInstance::idleSince));
                for (PooledInstance i : idle) {
                    if (live <= scaling.minInstances()) {
                        break;
                    }
                    if (!i.idleSince().plus(scaling.keepAlive()).isAfter(now)) {
                        i.retire();
                        i.moveTo(InstanceState.REMOVING);
                        pool.instances.remove(i);
                        expired.add(i);
                        live--;
                    }
                }
                topUp(pool);
            } finally {
                pool.lock.unlock();
            }
            for (PooledInstance i : expired) {
                LOG.atDebug().addKeyValue("function", i.function().name()).addKeyValue("instance", i.id())
                        .log("instance idle past its keep-alive; removing");
                destroy(i);
            }
        }
    }

    /** Starts instances up to the latest revision's minimum. Under the pool's lock. */
    private void topUp(FunctionPool pool) {
        if (closed || pool.deleted || pool.latest == null) {
            return;
        }
        int live = 0;
        for (PooledInstance i : pool.instances) {
            if (i.function().revision() == pool.latest.revision() && !i.retired()) {
                live++;
            }
        }
        int min = pool.latest.spec().scaling().minInstances();
        if (live < min && pool.lastStartFailureNanos != 0
                && System.nanoTime() - pool.lastStartFailureNanos < PREWARM_BACKOFF.toNanos()) {
            return; // a broken image is not retried every maintenance period; calls still try on demand
        }
        while (live < min && reserveSlot()) {
            provision(pool, pool.latest, true);
            live++;
        }
    }

    private void maintainLoop() {
        while (!closed) {
            lifecycle.lock();
            try {
                maintenanceWake.awaitNanos(options.maintenancePeriod().toNanos());
            } catch (InterruptedException e) {
                return;
            } finally {
                lifecycle.unlock();
            }
            if (closed) {
                return;
            }
            try {
                maintain();
            } catch (RuntimeException e) {
                LOG.atError().setCause(e).log("pool maintenance failed; will try again");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views

    /** @return every state change counted so far */
    public TransitionCounts transitions() {
        return transitions;
    }

    /** @return instances in any state but GONE, across all functions */
    public int liveInstances() {
        return liveInstances.get();
    }

    /**
     * @param functionId a function's id
     * @return a snapshot of its instances, any revision
     */
    public List<InstanceView> instancesOf(String functionId) {
        FunctionPool pool = pools.get(functionId);
        if (pool == null) {
            return List.of();
        }
        pool.lock.lock();
        try {
            List<InstanceView> out = new ArrayList<>(pool.instances.size());
            for (PooledInstance i : pool.instances) {
                out.add(new InstanceView(i.id(), i.function().revision(), i.state(), i.inFlight(), i.served()));
            }
            return out;
        } finally {
            pool.lock.unlock();
        }
    }

    /** @return instances of every function by state (GONE excluded), each state present, zero or not */
    public Map<InstanceState, Integer> countByState() {
        Map<InstanceState, Integer> counts = new EnumMap<>(InstanceState.class);
        for (InstanceState s : InstanceState.values()) {
            if (s != InstanceState.GONE) {
                counts.put(s, 0);
            }
        }
        for (FunctionPool pool : pools.values()) {
            pool.lock.lock();
            try {
                for (PooledInstance i : pool.instances) {
                    counts.computeIfPresent(i.state(), (k, n) -> n + 1);
                }
            } finally {
                pool.lock.unlock();
            }
        }
        return counts;
    }

    /** @return calls of every function waiting for an instance */
    public int queuedTotal() {
        int total = 0;
        for (FunctionPool pool : pools.values()) {
            pool.lock.lock();
            try {
                total += pool.waiters.size();
            } finally {
                pool.lock.unlock();
            }
        }
        return total;
    }

    /**
     * @param functionId a function's id
     * @return calls of that function waiting for an instance
     */
    public int queued(String functionId) {
        FunctionPool pool = pools.get(functionId);
        if (pool == null) {
            return 0;
        }
        pool.lock.lock();
        try {
            return pool.waiters.size();
        } finally {
            pool.lock.unlock();
        }
    }

    /**
     * One instance as seen at one moment.
     *
     * @param id       instance id
     * @param revision the revision it serves
     * @param state    its state
     * @param inFlight calls under way
     * @param served   calls it has taken
     */
    public record InstanceView(String id, long revision, InstanceState state, int inFlight, long served) {
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shutdown

    /**
     * Fails every waiting call, and removes every instance (their calls should have ended: the facade closes the
     * pool after its calls drained). Idempotent; waits for the removals, each bounded by the backend's own teardown
     * timeout.
     */
    @Override
    public void close() {
        lifecycle.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            maintenanceWake.signalAll();
        } finally {
            lifecycle.unlock();
        }
        List<PooledInstance> all = new ArrayList<>();
        for (FunctionPool pool : pools.values()) {
            pool.lock.lock();
            try {
                for (Waiter w : pool.waiters) {
                    w.failure = new ShuttingDownException("Granda is shutting down");
                    w.wake.signal();
                }
                pool.waiters.clear();
                for (PooledInstance i : List.copyOf(pool.instances)) {
                    i.retire();
                    if (i.state() != InstanceState.PROVISIONING) {
                        if (i.state() != InstanceState.REMOVING) {
                            i.moveTo(InstanceState.REMOVING);
                        }
                        pool.instances.remove(i);
                        all.add(i);
                    }
                    // PROVISIONING ones are destroyed by onStarted, which sees closed.
                }
            } finally {
                pool.lock.unlock();
            }
        }
        List<Thread> removers = new ArrayList<>();
        for (PooledInstance i : all) {
            removers.add(Thread.ofVirtual().start(() -> destroy(i)));
        }
        for (Thread t : removers) {
            try {
                t.join(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // Instances still starting finish on their own threads and remove themselves; wait briefly for them.
        long deadline = System.nanoTime() + options.startTimeout().plusSeconds(5).toNanos();
        while (liveInstances.get() > 0 && System.nanoTime() < deadline) {
            try {
                TimeUnit.MILLISECONDS.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (liveInstances.get() > 0) {
            LOG.atWarn().addKeyValue("instances", liveInstances.get()).log("pool closed with instances still live");
        }
    }

    private static String toSeconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : Double.toString(d.toMillis() / 1000.0);
    }
}
