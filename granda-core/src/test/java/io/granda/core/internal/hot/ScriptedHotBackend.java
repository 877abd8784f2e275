package io.granda.core.internal.hot;

import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.HotInstance;
import io.granda.core.spi.InstanceSpec;
import io.granda.core.spi.PreparedImage;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A hand-written hot-instance backend for warm pool tests: it starts nothing, counts what it is asked, and does what
 * the test scripted. Starts can be held on a gate, made to fail with a given exception, and given chosen timings; the
 * instances it returns have a socket path nobody listens on. Thread-safe.
 */
final class ScriptedHotBackend implements Backend {

    /** Longest a held start waits for its gate, so that a broken test fails instead of hanging. */
    static final Duration MAX_HOLD = Duration.ofSeconds(30);

    private final Object monitor = new Object();
    private final List<InstanceSpec> startsEntered = new ArrayList<>();
    private final List<HotInstance> started = new ArrayList<>();
    private final List<HotInstance> destroyed = new ArrayList<>();
    private final AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(0));
    private final AtomicReference<CountDownLatch> destroyGate = new AtomicReference<>(new CountDownLatch(0));
    private int destroysEntered;
    private final AtomicReference<RuntimeException> startFailure = new AtomicReference<>();
    private volatile Duration imagePull = Duration.ZERO;
    private volatile Duration createStart = Duration.ZERO;
    private volatile Duration init = Duration.ZERO;
    private volatile Consumer<InstanceSpec> onStart = spec -> { };
    private volatile Consumer<HotInstance> onDestroy = instance -> { };

    // ---------------------------------------------------------------------------------------------------------
    // Script

    /** Holds every start from now on until {@link #openGate()}. */
    void holdStarts() {
        gate.set(new CountDownLatch(1));
    }

    /** Lets every held start, and every later one, proceed. */
    void openGate() {
        gate.get().countDown();
    }

    /** Holds every destroy from now on until {@link #openDestroyGate()}. */
    void holdDestroys() {
        destroyGate.set(new CountDownLatch(1));
    }

    /** Lets every held destroy, and every later one, proceed. */
    void openDestroyGate() {
        destroyGate.get().countDown();
    }

    /** Makes every start from now on (once past the gate) throw this; null to succeed again. */
    void failStartsWith(RuntimeException failure) {
        startFailure.set(failure);
    }

    /** The timings every later start reports. */
    void timings(Duration imagePull, Duration createStart, Duration init) {
        this.imagePull = imagePull;
        this.createStart = createStart;
        this.init = init;
    }

    /** Runs inside {@link #startInstance}, on the pool's start thread, before the gate. */
    void onStart(Consumer<InstanceSpec> hook) {
        this.onStart = hook;
    }

    /** Runs inside {@link #destroyInstance}, on the thread the pool destroys from. */
    void onDestroy(Consumer<HotInstance> hook) {
        this.onDestroy = hook;
    }

    // ---------------------------------------------------------------------------------------------------------
    // What happened

    /** @return starts asked for so far, including held and failed ones */
    int startsEntered() {
        synchronized (monitor) {
            return startsEntered.size();
        }
    }

    /** @return the specs of every start asked for so far */
    List<InstanceSpec> startSpecs() {
        synchronized (monitor) {
            return List.copyOf(startsEntered);
        }
    }

    /** @return instances started successfully so far */
    int startsSucceeded() {
        synchronized (monitor) {
            return started.size();
        }
    }

    /** @return instances destroyed so far */
    int destroys() {
        synchronized (monitor) {
            return destroyed.size();
        }
    }

    /** @return the ids of the instances destroyed so far, in order */
    List<String> destroyedIds() {
        synchronized (monitor) {
            return destroyed.stream().map(HotInstance::instanceId).toList();
        }
    }

    /** Waits until at least {@code n} starts were asked for; false when that did not happen within the bound. */
    boolean awaitStartsEntered(int n, Duration max) throws InterruptedException {
        return awaitCount(() -> startsEntered.size() >= n, max);
    }

    /** Waits until at least {@code n} destroys were asked for, held or not; false when not within the bound. */
    boolean awaitDestroysEntered(int n, Duration max) throws InterruptedException {
        return awaitCount(() -> destroysEntered >= n, max);
    }

    /** Waits until at least {@code n} instances were destroyed; false when that did not happen within the bound. */
    boolean awaitDestroys(int n, Duration max) throws InterruptedException {
        return awaitCount(() -> destroyed.size() >= n, max);
    }

    private boolean awaitCount(java.util.function.BooleanSupplier reached, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        synchronized (monitor) {
            while (!reached.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(monitor, left);
            }
            return true;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Backend

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return Set.of(BackendCapability.HOT_INSTANCES);
    }

    @Override
    public PreparedImage prepare(String image) {
        throw new UnsupportedOperationException("the warm pool never prepares images itself");
    }

    @Override
    public RunOnceResult runOnce(RunOnceRequest request) {
        throw new UnsupportedOperationException("no run mode here");
    }

    @Override
    public HotInstance startInstance(InstanceSpec spec) {
        synchronized (monitor) {
            startsEntered.add(spec);
            monitor.notifyAll();
        }
        onStart.accept(spec);
        try {
            if (!gate.get().await(MAX_HOLD.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("a held start was never let through");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while held", e);
        }
        RuntimeException failure = startFailure.get();
        if (failure != null) {
            throw failure;
        }
        HotInstance instance = new HotInstance(spec.instanceId(), "scripted-" + spec.instanceId(),
                Path.of("/nonexistent/granda", spec.instanceId(), "fn.sock"), imagePull, createStart, init);
        synchronized (monitor) {
            started.add(instance);
            monitor.notifyAll();
        }
        return instance;
    }

    @Override
    public void destroyInstance(HotInstance instance) {
        synchronized (monitor) {
            destroysEntered++;
            monitor.notifyAll();
        }
        onDestroy.accept(instance);
        try {
            if (!destroyGate.get().await(MAX_HOLD.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("a held destroy was never let through");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (monitor) {
            destroyed.add(instance);
            monitor.notifyAll();
        }
    }

    @Override
    public int reapLeftovers() {
        return 0;
    }

    @Override
    public ComponentHealth health() {
        return new ComponentHealth(true, "scripted");
    }

    @Override
    public void close() {
    }
}
