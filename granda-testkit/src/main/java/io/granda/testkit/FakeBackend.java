package io.granda.testkit;

import io.granda.core.BackendUnavailableException;
import io.granda.core.ImageUnavailableException;
import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.PreparedImage;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A backend that runs nothing and counts every call, for tests of what sits above the backend (the facade, the HTTP
 * layer). By default every run exits 0 with the payload as its output. Thread-safe.
 */
public final class FakeBackend implements Backend {

    private final Set<String> missingImages = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicInteger prepares = new AtomicInteger();
    private final AtomicInteger runs = new AtomicInteger();
    private final AtomicInteger reaps = new AtomicInteger();
    private final AtomicInteger closes = new AtomicInteger();
    private volatile Function<RunOnceRequest, RunOnceResult> behaviour = FakeBackend::echo;

    /** @return a successful run whose output is the payload */
    public static RunOnceResult echo(RunOnceRequest request) {
        return new RunOnceResult(RunOnceResult.Termination.EXITED, 0, request.payload(), false, "",
                Duration.ZERO, Duration.ofMillis(1), Duration.ofMillis(1), -1);
    }

    /** Makes {@link #prepare(String)} and runs of this image fail as unpullable. */
    public FakeBackend withMissingImage(String image) {
        missingImages.add(image);
        return this;
    }

    /** Sets what every run returns. */
    public FakeBackend withBehaviour(Function<RunOnceRequest, RunOnceResult> behaviour) {
        this.behaviour = behaviour;
        return this;
    }

    /** Makes every call fail as if the engine were unreachable (or reachable again). */
    public FakeBackend setDown(boolean isDown) {
        down.set(isDown);
        return this;
    }

    public int prepareCalls() {
        return prepares.get();
    }

    public int runCalls() {
        return runs.get();
    }

    public int reapCalls() {
        return reaps.get();
    }

    public int closeCalls() {
        return closes.get();
    }

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return EnumSet.of(BackendCapability.RUN_ONCE, BackendCapability.PULL_IMAGES);
    }

    @Override
    public PreparedImage prepare(String image) {
        prepares.incrementAndGet();
        checkUp();
        if (missingImages.contains(image)) {
            throw new ImageUnavailableException("image '" + image + "' is not present and could not be pulled: "
                    + "fake registry says no");
        }
        return new PreparedImage(image, "sha256:fake", false, Duration.ZERO);
    }

    @Override
    public RunOnceResult runOnce(RunOnceRequest request) {
        runs.incrementAndGet();
        checkUp();
        if (missingImages.contains(request.image())) {
            throw new ImageUnavailableException("image '" + request.image() + "' is gone");
        }
        return behaviour.apply(request);
    }

    @Override
    public int reapLeftovers() {
        reaps.incrementAndGet();
        checkUp();
        return 0;
    }

    @Override
    public ComponentHealth health() {
        return down.get() ? new ComponentHealth(false, "fake backend is down") : new ComponentHealth(true, "fake");
    }

    @Override
    public void close() {
        closes.incrementAndGet();
    }

    private void checkUp() {
        if (down.get()) {
            throw new BackendUnavailableException("fake backend is down");
        }
    }
}
