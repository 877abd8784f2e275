package io.granda.core;

import io.granda.core.access.ApiKey;
import io.granda.core.access.ApiKeys;
import io.granda.core.access.AuthFailureLimiter;
import io.granda.core.access.Tenant;
import io.granda.core.access.TenantHasFunctionsException;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.ImageBuilder;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.RuntimeCatalog;
import io.granda.core.build.StoredImage;
import io.granda.core.internal.FunctionCache;
import io.granda.core.internal.InFlightCalls;
import io.granda.core.internal.InvocationRecorder;
import io.granda.core.internal.RecentCallLogs;
import io.granda.core.internal.RunModeInvoker;
import io.granda.core.internal.build.FunctionBuilds;
import io.granda.core.internal.hot.HotInvoker;
import io.granda.core.internal.hot.InstanceState;
import io.granda.core.internal.hot.WarmPool;
import io.granda.core.memory.InMemoryApiKeyStore;
import io.granda.core.memory.InMemoryFunctionRegistry;
import io.granda.core.memory.InMemoryMeteringStore;
import io.granda.core.spi.ApiKeyStore;
import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.BackendProvider;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.FunctionRegistry;
import io.granda.core.spi.HealthCheck;
import io.granda.core.spi.Invoker;
import io.granda.core.spi.MeteringStore;
import io.granda.core.spi.PlatformListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The platform, as an application embeds it: deploy functions, invoke them, list and delete them, read what they
 * cost. Thread-safe.
 *
 * <pre>{@code
 * try (Granda granda = Granda.builder().build()) {          // backend found on the classpath (granda-docker)
 *     granda.deploy(FunctionSpec.builder("hello").image("granda/hello").build());
 *     InvocationResult r = granda.invoke("hello", InvocationRequest.of("world"));
 *     System.out.println(r.outcome() + ": " + r.outputAsString());
 * }
 * }</pre>
 *
 * <p>Granda owns the backend, registry and stores it is built with: {@link #close()} waits for calls under way,
 * stores their records, removes every instance and closes each of them that is {@link AutoCloseable}.
 *
 * <p><b>Tenants.</b> Every function belongs to one {@link Tenant}, fixed when it is deployed ({@link Tenant#DEFAULT}
 * unless another is named). Methods that take a {@code tenant} first act only on that tenant's functions, and
 * answer for another tenant's function exactly as for a missing one ({@link FunctionNotFoundException}); a
 * {@code null} tenant means every tenant, as the operator sees them. Names are unique across tenants. The tenants
 * themselves and their API keys are in {@link #apiKeys()}.
 */
public final class Granda implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Granda.class);
    /** One INFO line per call goes to this logger, so operators can route or silence it on its own. */
    private static final Logger CALLS = LoggerFactory.getLogger("io.granda.invocations");
    private static final Duration READ_FLUSH_TIMEOUT = Duration.ofSeconds(5);
    /** Calls {@link #recentLogs} keeps per function unless {@link Builder#recentLogsPerFunction} says otherwise. */
    public static final int DEFAULT_RECENT_LOGS_PER_FUNCTION = 50;
    /** Stands for the image of a function being built, so the rest of its spec can be checked before the build. */
    private static final String PLACEHOLDER_IMAGE = "granda-fn/placeholder:build";

    private final Backend backend;
    private final FunctionRegistry registry;
    private final MeteringStore meteringStore;
    private final Clock clock;
    private final GrandaOptions options;
    private final ApiKeyStore apiKeyStore;
    private final ApiKeys apiKeys;
    private final AuthFailureLimiter authFailures;
    /**
     * Held while an update or a delete checks that the function it was asked about is still the one registered under
     * its name and changes it: without it, a function deleted and created again (perhaps by another tenant) between
     * the check and the change would receive a change meant for its predecessor.
     */
    private final ReentrantLock changeLock = new ReentrantLock();
    private final Invoker runModeInvoker;
    /** Null when the backend has no hot instances. */
    private final WarmPool pool;
    private final Invoker hotInvoker;
    private final FunctionCache cache;
    private final RuntimeCatalog runtimes;
    /** Null when there is no image builder: functions can then only be images. */
    private final FunctionBuilds builds;
    private final InvocationRecorder recorder;
    /** The last calls of each function with the end of their logs, in memory, for {@link #recentLogs}. */
    private final RecentCallLogs recentLogs;
    private final List<PlatformListener> listeners;
    /**
     * Background upkeep: purges metering data past its retention, every {@link MeteringOptions#purgeInterval()}, and
     * removes built images no revision uses (see {@link #removeUnusedImages()}).
     */
    private final ScheduledExecutorService housekeeping;
    /** One sweep of unused images at a time: a second one would only ask the engine the same questions. */
    private final ReentrantLock imageSweepLock = new ReentrantLock();
    private final InFlightCalls inFlight = new InFlightCalls();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Granda(Builder b, Backend backend) {
        this.backend = backend;
        this.registry = b.registry != null ? b.registry : new InMemoryFunctionRegistry(b.clock);
        this.meteringStore = b.meteringStore != null ? b.meteringStore : new InMemoryMeteringStore();
        this.clock = b.clock;
        this.options = b.options;
        this.apiKeyStore = b.apiKeyStore != null ? b.apiKeyStore : new InMemoryApiKeyStore(b.clock);
        this.apiKeys = new ApiKeys(apiKeyStore, clock);
        this.authFailures = AuthFailureLimiter.of(b.authFailureLimit, clock);
        this.runModeInvoker = new RunModeInvoker(backend, clock, options.maxOutputBytes(), options.maxLogTailBytes());
        this.cache = new FunctionCache(registry);
        this.runtimes = b.runtimes;
        ImageBuilder imageBuilder = b.imageBuilder != null ? b.imageBuilder
                : backend instanceof ImageBuilder fromBackend ? fromBackend : null;
        this.listeners = List.copyOf(b.listeners);
        this.builds = imageBuilder == null ? null
                : new FunctionBuilds(imageBuilder, backend, options.build(), clock, this::tellBuildFinished);
        if (backend.capabilities().contains(BackendCapability.HOT_INSTANCES)) {
            this.pool = new WarmPool(backend, clock, options.pool(), HotInvoker::closeConnections);
            this.hotInvoker = new HotInvoker(pool, backend, clock, options.maxOutputBytes(), options.maxLogTailBytes());
        } else {
            this.pool = null;
            this.hotInvoker = null;
        }
        this.recorder = new InvocationRecorder(meteringStore, options.recorderCapacity(), options.recorderBatchSize(),
                this::tellInvocationsStored);
        this.recentLogs = new RecentCallLogs(b.recentLogsPerFunction);
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("granda-housekeeping").daemon(true).factory());
        long everyMillis = options.metering().purgeInterval().toMillis();
        // The first purge waits a little: start-up has better things to do than delete old rows.
        housekeeping.scheduleWithFixedDelay(this::purgeExpiredQuietly, Math.min(everyMillis, 60_000), everyMillis,
                TimeUnit.MILLISECONDS);
        if (builds != null && options.build().removeUnusedImages()) {
            // Also run after each update or delete of a function built from source; this catches what those could
            // not remove yet (an image a draining instance still ran from) and what a previous process left.
            housekeeping.scheduleWithFixedDelay(this::removeUnusedImagesQuietly, IMAGE_SWEEP_EVERY.toMillis() / 10,
                    IMAGE_SWEEP_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** How often built images are checked for ones no revision uses. */
    private static final Duration IMAGE_SWEEP_EVERY = Duration.ofMinutes(10);

    private void tellInvocationsStored(List<InvocationRecord> stored) {
        for (PlatformListener l : listeners) {
            try {
                l.invocationsStored(stored);
            } catch (RuntimeException e) {
                LOG.atWarn().setCause(e).addKeyValue("listener", l.getClass().getName()).log("listener failed");
            }
        }
    }

    private void tellBuildFinished(BuildInfo build) {
        for (PlatformListener l : listeners) {
            try {
                l.buildFinished(build);
            } catch (RuntimeException e) {
                LOG.atWarn().setCause(e).addKeyValue("listener", l.getClass().getName()).log("listener failed");
            }
        }
    }

    /** @return a builder with in-memory stores, the system clock and default options */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Deploys a new function: validates the spec, makes sure its image is present (pulling it if needed) and
     * registers revision 1 with a new unguessable route.
     *
     * @param spec what to deploy
     * @return the deployed function
     * @throws InvalidFunctionSpecException   when the spec breaks a limit; nothing is created
     * @throws FunctionAlreadyExistsException when the name is taken
     * @throws ImageUnavailableException      when the image is absent and cannot be pulled
     * @throws BackendUnavailableException    when the backend cannot be reached
     * @see #deploy(String, FunctionSpec)
     */
    public DeployedFunction deploy(FunctionSpec spec) {
        return deploy(Tenant.DEFAULT, spec);
    }

    /**
     * Deploys a new function of a tenant; see {@link #deploy(FunctionSpec)}. Names are unique across tenants.
     *
     * @param tenant the tenant owning the function (a valid {@link Tenant#ID_PATTERN id}; it need not be registered
     *               in {@link #apiKeys()} when no API key is to act for it)
     * @param spec   what to deploy
     * @return the deployed function
     * @throws InvalidFunctionSpecException   when the spec breaks a limit or the tenant id is invalid
     * @throws FunctionAlreadyExistsException when the name is taken, by any tenant
     * @throws ImageUnavailableException      when the image is absent and cannot be pulled
     */
    public DeployedFunction deploy(String tenant, FunctionSpec spec) {
        Tenant.checkId(tenant);
        checkDeployable(spec);
        if (cache.byName(spec.name()).isPresent()) {
            // Fail before a possibly long pull; create() still guards the race.
            throw new FunctionAlreadyExistsException("a function named '" + spec.name() + "' already exists");
        }
        backend.prepare(spec.image());
        DeployedFunction created = registry.create(tenant, spec, null);
        cache.put(created);
        if (pool != null) {
            pool.functionChanged(created);
        }
        // The route is the function's secret: it stays out of the log.
        LOG.atInfo().addKeyValue("function", created.name()).addKeyValue("tenant", tenant)
                .addKeyValue("image", spec.image()).log("function deployed");
        return created;
    }

    /**
     * Deploys a new function from source code: builds its image (streaming the build's output to {@code buildLog}),
     * then registers revision 1, keeping the source with it. Such a function always runs hot (its image's process is
     * the runtime's shim, which speaks the hot protocol); the spec's image is ignored, Granda sets the one it built.
     *
     * @param spec     name, timeout, memory, env, scaling; image and mode are set by Granda
     * @param source   the runtime and files to build
     * @param buildLog receives each line of the build's output as it comes
     * @return the deployed function
     * @throws InvalidFunctionSpecException   when the spec or the source breaks a limit or the runtime is unknown
     * @throws FunctionAlreadyExistsException when the name is taken
     * @throws BuildFailedException           when the build failed (with the compiler's own message); nothing was
     *                                        registered
     * @throws RuntimeUnavailableException    when none of the runtime's base images is available
     */
    public DeployedFunction deploy(FunctionSpec spec, FunctionSource source, Consumer<String> buildLog) {
        return deploy(Tenant.DEFAULT, spec, source, buildLog);
    }

    /**
     * Deploys a new function of a tenant from source code; see {@link #deploy(FunctionSpec, FunctionSource,
     * Consumer)} and {@link #deploy(String, FunctionSpec)}.
     *
     * @param tenant   the tenant owning the function
     * @param spec     name, timeout, memory, env, scaling; image and mode are set by Granda
     * @param source   the runtime and files to build
     * @param buildLog receives each line of the build's output as it comes
     * @return the deployed function
     */
    public DeployedFunction deploy(String tenant, FunctionSpec spec, FunctionSource source, Consumer<String> buildLog) {
        Tenant.checkId(tenant);
        LanguageRuntime runtime = checkSource(source);
        FunctionSource normalised = new FunctionSource(runtime.name(), source.files());
        FunctionSpec hot = spec.toBuilder().mode(ExecutionMode.HOT).runtime(runtime.name())
                .image(PLACEHOLDER_IMAGE).build();
        checkDeployable(hot);
        if (cache.byName(spec.name()).isPresent()) {
            throw new FunctionAlreadyExistsException("a function named '" + spec.name() + "' already exists");
        }
        FunctionBuilds.Built built = builds.build(tenant, spec.name(), 1, runtime, normalised, buildLog);
        DeployedFunction created;
        try {
            created = registry.create(tenant, hot.toBuilder().image(built.tag()).build(), normalised);
        } catch (RuntimeException e) {
            builds.abandoned(built.buildId(), String.valueOf(e.getMessage()));
            builds.removeImage(built.tag());
            throw e;
        }
        builds.succeeded(built.buildId(), created.revision());
        cache.put(created);
        if (pool != null) {
            pool.functionChanged(created);
        }
        LOG.atInfo().addKeyValue("function", created.name()).addKeyValue("tenant", tenant)
                .addKeyValue("runtime", runtime.name()).addKeyValue("image", built.tag()).log("function deployed");
        return created;
    }

    /**
     * Builds and makes a new revision of a function from new source code; the previous revision keeps serving until
     * the new one is registered, and if the build fails nothing changes. See
     * {@link #deploy(FunctionSpec, FunctionSource, Consumer)}.
     *
     * @param spec             the new settings; image and mode are set by Granda
     * @param expectedRevision the revision the caller last saw, or -1 for whatever is current
     * @param source           the new source
     * @param buildLog         receives each line of the build's output
     * @return the new revision
     * @throws FunctionNotFoundException when there is no such function
     * @throws RevisionConflictException when the function has moved past {@code expectedRevision}
     * @throws BuildFailedException      when the build failed; the function is unchanged
     */
    public DeployedFunction update(FunctionSpec spec, long expectedRevision, FunctionSource source,
                                   Consumer<String> buildLog) {
        return update(null, spec, expectedRevision, source, buildLog);
    }

    /**
     * Builds and makes a new revision of one of a tenant's functions from new source code; see
     * {@link #update(FunctionSpec, long, FunctionSource, Consumer)}. If the function is deleted (or deleted and
     * created again) while it builds, nothing changes and the answer is {@link FunctionNotFoundException}.
     *
     * @param tenant           the function's tenant, or {@code null} for any tenant's
     * @param spec             the new settings; image and mode are set by Granda
     * @param expectedRevision the revision the caller last saw, or -1 for whatever is current
     * @param source           the new source
     * @param buildLog         receives each line of the build's output
     * @return the new revision
     * @throws FunctionNotFoundException when the tenant has no such function
     */
    public DeployedFunction update(String tenant, FunctionSpec spec, long expectedRevision, FunctionSource source,
                                   Consumer<String> buildLog) {
        LanguageRuntime runtime = checkSource(source);
        FunctionSource normalised = new FunctionSource(runtime.name(), source.files());
        FunctionSpec hot = spec.toBuilder().mode(ExecutionMode.HOT).runtime(runtime.name())
                .image(PLACEHOLDER_IMAGE).build();
        checkDeployable(hot);
        DeployedFunction current = visible(tenant, spec.name());
        long expected = expectedRevision < 0 ? current.revision() : expectedRevision;
        if (current.revision() != expected) {
            throw new RevisionConflictException("function '" + spec.name() + "' is at revision " + current.revision()
                    + ", not " + expected);
        }
        FunctionBuilds.Built built = builds.build(current.tenant(), spec.name(), expected + 1, runtime, normalised,
                buildLog);
        DeployedFunction updated;
        try {
            FunctionSpec next = hot.toBuilder().image(built.tag()).build();
            updated = whileStill(current, () -> registry.update(next, expected, normalised));
        } catch (RuntimeException e) {
            builds.abandoned(built.buildId(), String.valueOf(e.getMessage()));
            builds.removeImage(built.tag());
            throw e;
        }
        builds.succeeded(built.buildId(), updated.revision());
        cache.put(updated);
        if (pool != null) {
            pool.functionChanged(updated);
        }
        LOG.atInfo().addKeyValue("function", updated.name()).addKeyValue("revision", updated.revision())
                .addKeyValue("image", built.tag()).log("function rebuilt");
        sweepImagesSoon(current);
        return updated;
    }

    private LanguageRuntime checkSource(FunctionSource source) {
        Objects.requireNonNull(source, "source");
        if (builds == null) {
            throw new InvalidFunctionSpecException("runtime", "this Granda cannot build functions from source: "
                    + "its backend '" + backend.name() + "' has no image builder");
        }
        LanguageRuntime runtime = runtimes.require(source.runtime());
        source.validate(options.build().sourceLimits());
        runtime.check(source);
        return runtime;
    }

    /**
     * @param name a function name
     * @return the source its current revision was built from; empty for a function given as an image
     * @throws FunctionNotFoundException when there is no such function
     */
    public Optional<FunctionSource> source(String name) {
        return source(null, name);
    }

    /**
     * @param tenant the function's tenant, or {@code null} for any tenant's
     * @param name   a function name
     * @return the source its current revision was built from; empty for a function given as an image
     * @throws FunctionNotFoundException when the tenant has no such function
     */
    public Optional<FunctionSource> source(String tenant, String name) {
        DeployedFunction f = visible(tenant, name);
        return registry.source(f.id(), f.revision());
    }

    /**
     * @param buildId a build's id
     * @return that build, live while it runs, if it is among the recent ones
     */
    public Optional<BuildInfo> build(String buildId) {
        return build(null, buildId);
    }

    /**
     * @param tenant  the tenant whose builds to look among, or {@code null} for every tenant's
     * @param buildId a build's id
     * @return that build of the tenant, live while it runs, if it is among the recent ones
     */
    public Optional<BuildInfo> build(String tenant, String buildId) {
        return builds == null ? Optional.empty()
                : builds.info(buildId).filter(b -> tenant == null || b.tenant().equals(tenant));
    }

    /**
     * @param name a function name
     * @return the most recent build of that name that is still remembered (successful or not)
     */
    public Optional<BuildInfo> latestBuild(String name) {
        return latestBuild(null, name);
    }

    /**
     * @param tenant the tenant whose builds to look among, or {@code null} for every tenant's
     * @param name   a function name
     * @return the most recent build of that name by that tenant that is still remembered (successful or not)
     */
    public Optional<BuildInfo> latestBuild(String tenant, String name) {
        return builds == null ? Optional.empty() : builds.latest(tenant, name);
    }

    /** @return the runtimes functions can be written in; empty when this Granda cannot build */
    public RuntimeCatalog runtimes() {
        return builds == null ? RuntimeCatalog.NONE : runtimes;
    }

    /**
     * Replaces the current revision of a function with a new one.
     *
     * @param spec the new spec; its name says which function
     * @return the new revision
     * @throws FunctionNotFoundException when there is no such function
     * @see #update(FunctionSpec, long)
     */
    public DeployedFunction update(FunctionSpec spec) {
        return update(null, spec, -1);
    }

    /**
     * Replaces a function's spec if it is still at the expected revision.
     *
     * @param spec             the new spec; its name says which function
     * @param expectedRevision the revision the caller last saw
     * @return the new revision
     * @throws InvalidFunctionSpecException when the spec breaks a limit; nothing changes
     * @throws FunctionNotFoundException    when there is no such function
     * @throws RevisionConflictException    when the function has moved past {@code expectedRevision}
     * @throws ImageUnavailableException    when the new image is absent and cannot be pulled
     */
    public DeployedFunction update(FunctionSpec spec, long expectedRevision) {
        return update(null, spec, expectedRevision);
    }

    /**
     * Replaces the spec of one of a tenant's functions, if it is still at the expected revision; see
     * {@link #update(FunctionSpec, long)}. The tenant owning the function never changes.
     *
     * @param tenant           the function's tenant, or {@code null} for any tenant's
     * @param spec             the new spec; its name says which function
     * @param expectedRevision the revision the caller last saw, or -1 for whatever is current
     * @return the new revision
     * @throws FunctionNotFoundException when the tenant has no such function
     * @throws RevisionConflictException when the function has moved past {@code expectedRevision}
     */
    public DeployedFunction update(String tenant, FunctionSpec spec, long expectedRevision) {
        checkDeployable(spec);
        String name = spec.name();
        DeployedFunction current = visible(tenant, name);
        long expected = expectedRevision < 0 ? current.revision() : expectedRevision;
        FunctionSource keptSource = null;
        FunctionSpec next;
        if (current.spec().fromSource() && spec.image().equals(current.spec().image())) {
            // New settings for a function built from source, same image: the new revision keeps that source.
            keptSource = registry.source(current.id(), current.revision()).orElse(null);
            next = spec.toBuilder().runtime(current.spec().runtime()).mode(ExecutionMode.HOT).build();
        } else {
            next = spec.toBuilder().runtime("").build();
        }
        backend.prepare(next.image());
        FunctionSource source = keptSource;
        DeployedFunction updated = whileStill(current, () -> registry.update(next, expected, source));
        cache.put(updated);
        if (pool != null) {
            // Instances of the old revision take no new calls and go as soon as their calls end.
            pool.functionChanged(updated);
        }
        LOG.atInfo().addKeyValue("function", updated.name()).addKeyValue("revision", updated.revision())
                .log("function updated");
        if (!updated.spec().image().equals(current.spec().image())) {
            sweepImagesSoon(current);
        }
        return updated;
    }

    /**
     * @param name a function name
     * @return the function's current revision, empty when there is none
     */
    public Optional<DeployedFunction> function(String name) {
        return cache.byName(name);
    }

    /**
     * @param tenant a tenant, or {@code null} for any tenant
     * @param name   a function name
     * @return the function's current revision when it is that tenant's, else empty
     */
    public Optional<DeployedFunction> function(String tenant, String name) {
        return cache.byName(name).filter(f -> f.ownedBy(tenant));
    }

    /**
     * @param routeId the route segment of a function's URL
     * @return the function owning the route, empty when none does
     */
    public Optional<DeployedFunction> functionByRoute(String routeId) {
        return cache.byRoute(routeId);
    }

    /** @return every function's current revision, by name */
    public List<DeployedFunction> functions() {
        return registry.list();
    }

    /**
     * @param tenant a tenant, or {@code null} for every tenant
     * @return the current revision of each of that tenant's functions, by name
     */
    public List<DeployedFunction> functions(String tenant) {
        return registry.list().stream().filter(f -> f.ownedBy(tenant)).toList();
    }

    /**
     * Deletes a function. Its URL stops answering at once; its invocation records stay.
     *
     * @param name a function name
     * @return true when it existed
     */
    public boolean delete(String name) {
        return delete(null, name);
    }

    /**
     * Deletes one of a tenant's functions; see {@link #delete(String)}.
     *
     * @param tenant the function's tenant, or {@code null} for any tenant's
     * @param name   a function name
     * @return true when the tenant had such a function
     */
    public boolean delete(String tenant, String name) {
        Optional<DeployedFunction> removed;
        changeLock.lock();
        try {
            // The registry, not the cache: the check and the delete must see the same function.
            if (registry.find(name).filter(f -> f.ownedBy(tenant)).isEmpty()) {
                return false;
            }
            removed = registry.delete(name);
        } finally {
            changeLock.unlock();
        }
        removed.ifPresent(f -> {
            cache.remove(f);
            recentLogs.remove(f.id());
            if (pool != null) {
                pool.functionDeleted(f.id());
            }
            LOG.atInfo().addKeyValue("function", name).log("function deleted");
            sweepImagesSoon(f);
        });
        return removed.isPresent();
    }

    /**
     * Calls a function by name.
     *
     * @param name    a function name
     * @param request the call
     * @return the function's outcome and output; a failing function is a result, not an exception
     * @throws FunctionNotFoundException   when there is no such function
     * @throws PayloadTooLargeException    when the payload exceeds {@link GrandaOptions#maxPayloadBytes()}
     * @throws BackendUnavailableException when the backend cannot run it
     * @throws ShuttingDownException       after {@link #close()} began
     */
    public InvocationResult invoke(String name, InvocationRequest request) {
        return invoke(cache.byName(name).orElseThrow(() -> notFound(name)), request);
    }

    /**
     * Calls a given revision of a function; see {@link #invoke(String, InvocationRequest)}.
     *
     * @param function the revision to run
     * @param request  the call
     * @return the function's outcome and output
     */
    public InvocationResult invoke(DeployedFunction function, InvocationRequest request) {
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(request, "request");
        if (request.body().length > options.maxPayloadBytes()) {
            throw new PayloadTooLargeException("payload is " + request.body().length + " bytes; at most "
                    + options.maxPayloadBytes() + " are accepted");
        }
        inFlight.enter();
        try {
            String invocationId = Ids.newTimeOrderedId(clock.instant());
            DeployedFunction target = function;
            InvocationResult result;
            while (true) {
                try {
                    result = invokerFor(target).invoke(invocationId, target, request);
                    break;
                } catch (WarmPool.StaleRevisionException stale) {
                    // The function was updated between routing and dispatch: run the revision that is current now,
                    // never the one it replaced.
                    String id = target.id();
                    target = cache.byName(target.name()).filter(f -> f.id().equals(id))
                            .orElseThrow(() -> notFound(function.name()));
                }
            }
            record(toRecord(result, target, request));
            rememberLog(target, result);
            logCall(result);
            return result;
        } finally {
            inFlight.exit();
        }
    }

    private void record(InvocationRecord record) {
        try {
            recorder.record(record);
        } catch (IllegalStateException recorderClosed) {
            // close() gave up waiting for this call (its grace ran out) and shut the recorder. The function ran, so
            // its caller still gets the answer; the record is written straight to the store, as a last attempt.
            try {
                meteringStore.append(List.of(record));
            } catch (RuntimeException e) {
                LOG.atError().setCause(e).addKeyValue("id", record.invocationId())
                        .addKeyValue("function", record.functionName()).addKeyValue("runMicros", record.runMicros())
                        .log("invocation record lost: the call ended after shutdown");
            }
        }
    }

    private void rememberLog(DeployedFunction f, InvocationResult result) {
        recentLogs.add(f.id(), CallLog.of(result, options.maxLogTailBytes()));
        if (cache.isDeleted(f.id())) {
            // The function was deleted while this call ran, and delete() may have forgotten its calls before this
            // one was added: forget them now, so that a deleted function's ring never stays behind.
            recentLogs.remove(f.id());
        }
    }

    /**
     * The last calls of a function with the end of their logs (run mode: stderr), newest first: at most
     * {@link Builder#recentLogsPerFunction(int)} (default 50) per function, kept in memory only, so empty after a
     * restart. A re-created function starts with none.
     *
     * @param name a function name
     * @return its remembered calls, newest first
     * @throws FunctionNotFoundException when there is no such function
     */
    public List<CallLog> recentLogs(String name) {
        return recentLogs(null, name);
    }

    /**
     * The last calls of one of a tenant's functions; see {@link #recentLogs(String)}.
     *
     * @param tenant the function's tenant, or {@code null} for any tenant's
     * @param name   a function name
     * @return its remembered calls, newest first
     * @throws FunctionNotFoundException when the tenant has no such function
     */
    public List<CallLog> recentLogs(String tenant, String name) {
        return recentLogs.newestFirst(visible(tenant, name).id());
    }

    /** @return how many calls {@link #recentLogs} keeps per function */
    public int recentLogsPerFunction() {
        return recentLogs.capacity();
    }

    /** Tells the pool about the hot functions already in the registry, so their minimum instances start now. */
    private void prewarmStoredFunctions() {
        if (pool == null) {
            return;
        }
        for (DeployedFunction f : registry.list()) {
            if (f.spec().mode() == ExecutionMode.HOT) {
                cache.put(f);
                pool.functionChanged(f);
            }
        }
    }

    private Invoker invokerFor(DeployedFunction function) {
        return switch (function.spec().mode()) {
            case RUN -> runModeInvoker;
            case HOT -> {
                if (hotInvoker == null) {
                    throw new InvalidFunctionSpecException("mode", "backend '" + backend.name()
                            + "' cannot run hot functions");
                }
                yield hotInvoker;
            }
        };
    }

    private InvocationRecord toRecord(InvocationResult r, DeployedFunction f, InvocationRequest request) {
        InvocationTimings t = r.timings();
        InvocationRecord.PhaseMicros phases = new InvocationRecord.PhaseMicros(micros(t.queueWait()),
                micros(t.imagePull()), micros(t.createStart()), micros(t.init()), micros(t.run()));
        return new InvocationRecord(r.invocationId(), f.tenant(), f.id(), f.name(), f.revision(), t.start(), t.end(),
                phases, f.spec().memoryMb(), r.cpuMicros(),
                r.outcome(), r.exitCode(), r.cold(), request.body().length, r.output().length);
    }

    private static long micros(Duration d) {
        return d.toNanos() / 1000;
    }

    private static void logCall(InvocationResult r) {
        InvocationTimings t = r.timings();
        CALLS.atInfo().addKeyValue("function", r.functionName()).addKeyValue("revision", r.revision())
                .addKeyValue("outcome", r.outcome()).addKeyValue("exitCode", r.exitCode())
                .addKeyValue("cold", r.cold()).addKeyValue("totalMs", t.total().toMillis())
                .addKeyValue("runMs", t.run().toMillis()).addKeyValue("id", r.invocationId()).log("call");
    }

    /**
     * Lists a function's calls, newest first. Calls that returned before this method was called are included.
     *
     * @param name   a function name
     * @param limit  page size, 1 to 1000
     * @param cursor {@code null} for the first page, else the previous page's {@link Page#nextCursor()}
     * @return one page of records
     * @throws FunctionNotFoundException when there is no such function
     */
    public Page<InvocationRecord> invocations(String name, int limit, String cursor) {
        return invocations(null, name, limit, cursor);
    }

    /**
     * Lists the calls of one of a tenant's functions; see {@link #invocations(String, int, String)}.
     *
     * @param tenant the function's tenant, or {@code null} for any tenant's
     * @param name   a function name
     * @param limit  page size, 1 to 1000
     * @param cursor {@code null} for the first page, else the previous page's {@link Page#nextCursor()}
     * @return one page of records
     * @throws FunctionNotFoundException when the tenant has no such function
     */
    public Page<InvocationRecord> invocations(String tenant, String name, int limit, String cursor) {
        DeployedFunction f = visible(tenant, name);
        recorder.flush(READ_FLUSH_TIMEOUT);
        return meteringStore.invocations(f.id(), limit, cursor);
    }

    /**
     * Totals of a function's calls that started in {@code [since, until)}.
     *
     * @param name  a function name
     * @param since inclusive lower bound
     * @param until exclusive upper bound
     * @return the totals
     * @throws FunctionNotFoundException when there is no such function
     */
    public UsageSummary usage(String name, Instant since, Instant until) {
        return usage(null, name, since, until);
    }

    /**
     * Totals of the calls of one of a tenant's functions; see {@link #usage(String, Instant, Instant)}.
     *
     * @param tenant the function's tenant, or {@code null} for any tenant's
     * @param name   a function name
     * @param since  inclusive lower bound
     * @param until  exclusive upper bound
     * @return the totals
     * @throws FunctionNotFoundException when the tenant has no such function
     */
    public UsageSummary usage(String tenant, String name, Instant since, Instant until) {
        DeployedFunction f = visible(tenant, name);
        recorder.flush(READ_FLUSH_TIMEOUT);
        return meteringStore.usage(f.id(), since, until);
    }

    /**
     * @param invocationId an invocation id
     * @return the call's record, empty when there is none
     */
    public Optional<InvocationRecord> invocation(String invocationId) {
        recorder.flush(READ_FLUSH_TIMEOUT);
        return meteringStore.find(invocationId);
    }

    /**
     * Usage over a window, bucket by bucket (from the store's per-minute aggregates, so it outlives raw records).
     * The window is widened to whole buckets.
     *
     * @param tenant       a tenant, or {@code null} for every tenant
     * @param functionName a function name, or {@code null} for every function (of the tenant)
     * @param since        inclusive lower bound on the calls' start
     * @param until        exclusive upper bound
     * @param granularity  bucket width
     * @return buckets with calls, oldest first
     * @throws FunctionNotFoundException when a function name is given and the tenant has no such function
     */
    public List<UsageBucket> usageSeries(String tenant, String functionName, Instant since, Instant until,
                                         Granularity granularity) {
        RecordFilter filter = new RecordFilter(tenant, functionIdOf(tenant, functionName), since, until);
        recorder.flush(READ_FLUSH_TIMEOUT);
        return meteringStore.usageSeries(filter, granularity);
    }

    /**
     * Usage per function over a window (whole minutes), including functions deleted since.
     *
     * @param tenant a tenant, or {@code null} for every tenant
     * @param since  inclusive lower bound on the calls' start
     * @param until  exclusive upper bound
     * @return one entry per function with calls
     */
    public List<FunctionUsage> usageByFunction(String tenant, Instant since, Instant until) {
        recorder.flush(READ_FLUSH_TIMEOUT);
        return meteringStore.usageByFunction(new RecordFilter(tenant, null, since, until));
    }

    /**
     * Streams raw invocation records, oldest first, for export (e.g. CSV for an accountant).
     *
     * @param tenant       a tenant, or {@code null} for every tenant
     * @param functionName a function name, or {@code null} for every function
     * @param since        inclusive lower bound on the calls' start
     * @param until        exclusive upper bound
     * @param sink         receives each record; must not call back into Granda's store
     * @return how many records were passed
     * @throws FunctionNotFoundException when a function name is given and the tenant has no such function
     */
    public long exportRecords(String tenant, String functionName, Instant since, Instant until,
                              Consumer<InvocationRecord> sink) {
        RecordFilter filter = new RecordFilter(tenant, functionIdOf(tenant, functionName), since, until);
        recorder.flush(READ_FLUSH_TIMEOUT);
        return meteringStore.exportRecords(filter, sink);
    }

    private String functionIdOf(String tenant, String functionName) {
        return functionName == null ? null : visible(tenant, functionName).id();
    }

    /** @return the prices usage is costed at */
    public Prices prices() {
        return options.metering().prices();
    }

    /** @return the tenants and their API keys */
    public ApiKeys apiKeys() {
        return apiKeys;
    }

    /**
     * @return the counter of failed key checks by client, shared by every service of this platform that checks keys
     *         (so that a guesser cannot spread its attempts over them)
     */
    public AuthFailureLimiter authFailures() {
        return authFailures;
    }

    /**
     * Deletes a tenant that owns no functions, and revokes all its keys at once (see {@link ApiKeys#deleteTenant}).
     * Functions are never deleted as a side effect: a tenant that still owns some is refused, naming them, and its
     * user deletes them first. A function deployed for the tenant while it is being deleted (its key was checked just
     * before) outlives it, as a function of a tenant that is not registered may; an admin sees and deletes it.
     *
     * @param tenant a tenant id
     * @return the keys revoked now
     * @throws io.granda.core.access.TenantNotFoundException     when there is no such tenant
     * @throws io.granda.core.access.ProtectedTenantException    when it is {@link Tenant#DEFAULT}
     * @throws io.granda.core.access.TenantHasFunctionsException when it owns functions; nothing was changed
     * @throws io.granda.core.access.LastAdminKeyException       when it holds the last valid admin keys
     */
    public List<ApiKey> deleteTenant(String tenant) {
        // Unknown and protected tenants are answered as such before their functions are looked at.
        if (!Tenant.DEFAULT.equals(tenant) && apiKeys.tenant(tenant).isPresent()) {
            List<String> owned = functions(tenant).stream().map(DeployedFunction::name).toList();
            if (!owned.isEmpty()) {
                throw new TenantHasFunctionsException(tenant, owned);
            }
        }
        return apiKeys.deleteTenant(tenant);
    }

    /**
     * What a purge of expired metering data removed.
     *
     * @param recordCutoff    raw records that started before this were purged
     * @param records         how many
     * @param aggregateCutoff aggregates of minutes before this were purged
     * @param aggregates      how many aggregate rows
     */
    public record PurgeReport(Instant recordCutoff, long records, Instant aggregateCutoff, long aggregates) {
    }

    /**
     * Purges raw records older than {@link MeteringOptions#recordRetention()} and aggregates older than
     * {@link MeteringOptions#aggregateRetention()}, by this platform's clock. Runs by itself every
     * {@link MeteringOptions#purgeInterval()}; callable at any time.
     *
     * @return what went
     */
    public PurgeReport purgeExpiredMetering() {
        Instant now = clock.instant();
        MeteringOptions m = options.metering();
        Instant recordCutoff = now.minus(m.recordRetention());
        Instant aggregateCutoff = now.minus(m.aggregateRetention());
        long records = meteringStore.purgeRecordsBefore(recordCutoff);
        long aggregates = meteringStore.purgeAggregatesBefore(aggregateCutoff);
        if (records > 0 || aggregates > 0) {
            LOG.atInfo().addKeyValue("records", records).addKeyValue("recordCutoff", recordCutoff)
                    .addKeyValue("aggregates", aggregates).addKeyValue("aggregateCutoff", aggregateCutoff)
                    .log("purged expired metering data");
        }
        return new PurgeReport(recordCutoff, records, aggregateCutoff, aggregates);
    }

    /**
     * Removes the images Granda built that no function revision uses any more (those of replaced revisions and of
     * deleted functions) and that are older than {@link BuildOptions#unusedImageGrace()}. Images still being built,
     * or built and not yet registered, are never taken; an image a container still runs from (an instance of the
     * replaced revision finishing its calls) stays, and is tried again by the next sweep. Images given by users
     * ({@code "image": ...}) are never touched: only the builder's own are listed. Runs by itself every 10 minutes
     * and after a function built from source is updated or deleted, unless
     * {@link BuildOptions#removeUnusedImages()} is false; callable at any time.
     *
     * @return the tags of the images it asked the builder to remove (empty without a builder, or while another
     *         sweep runs)
     */
    public List<String> removeUnusedImages() {
        if (builds == null || !imageSweepLock.tryLock()) {
            return List.of();
        }
        try {
            // Pending tags first, then the registry: a build leaves the first only after it entered the second, so
            // reading in this order a fresh image is seen in one or the other.
            Set<String> keep = new HashSet<>(builds.pendingTags());
            for (DeployedFunction f : registry.list()) {
                keep.add(f.spec().image());
            }
            Instant youngest = clock.instant().minus(options.build().unusedImageGrace());
            List<String> removed = new ArrayList<>();
            for (StoredImage image : builds.builtImages()) {
                if (keep.contains(image.tag()) || image.created().isAfter(youngest)) {
                    continue;
                }
                builds.removeImage(image.tag());
                removed.add(image.tag());
            }
            if (!removed.isEmpty()) {
                LOG.atInfo().addKeyValue("images", removed.size()).addKeyValue("tags", removed)
                        .log("removing built images no revision uses");
            }
            return removed;
        } finally {
            imageSweepLock.unlock();
        }
    }

    private void removeUnusedImagesQuietly() {
        try {
            removeUnusedImages();
        } catch (RuntimeException e) {
            // The images stay until the next sweep: nothing is lost.
            LOG.atWarn().setCause(e).log("removing unused images failed; will try again");
        }
    }

    /** After a revision built from source was replaced or its function deleted: its image may now be unused. */
    private void sweepImagesSoon(DeployedFunction replaced) {
        if (builds == null || !options.build().removeUnusedImages() || !replaced.spec().fromSource()) {
            return;
        }
        try {
            housekeeping.execute(this::removeUnusedImagesQuietly);
        } catch (RejectedExecutionException e) {
            // Closing: the next start's sweep will find it.
        }
    }

    private void purgeExpiredQuietly() {
        try {
            purgeExpiredMetering();
        } catch (RuntimeException e) {
            // Nothing is lost by purging later; the next run tries again.
            LOG.atWarn().setCause(e).log("purging expired metering data failed; will try again");
        }
    }

    /** @return hot instances of every function by state ({@code provisioning}, {@code ready}, ...), zeros included */
    public Map<String, Integer> instancesByState() {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (pool == null) {
            for (InstanceState st : InstanceState.values()) {
                if (st != InstanceState.GONE) {
                    out.put(st.name().toLowerCase(Locale.ROOT), 0);
                }
            }
            return out;
        }
        pool.countByState().forEach((st, n) -> out.put(st.name().toLowerCase(Locale.ROOT), n));
        return out;
    }

    /** @return calls waiting for a hot instance right now, across functions */
    public int queuedCalls() {
        return pool == null ? 0 : pool.queuedTotal();
    }

    /**
     * The hot instances of a function, of any revision (old ones linger until their calls end).
     *
     * @param name a function name
     * @return its instances now; empty for a run-mode function or one with no instance
     * @throws FunctionNotFoundException when there is no such function
     */
    public List<InstanceInfo> instances(String name) {
        return instances(null, name);
    }

    /**
     * The hot instances of one of a tenant's functions; see {@link #instances(String)}.
     *
     * @param tenant the function's tenant, or {@code null} for any tenant's
     * @param name   a function name
     * @return its instances now
     * @throws FunctionNotFoundException when the tenant has no such function
     */
    public List<InstanceInfo> instances(String tenant, String name) {
        DeployedFunction f = visible(tenant, name);
        if (pool == null) {
            return List.of();
        }
        return pool.instancesOf(f.id()).stream()
                .map(v -> new InstanceInfo(v.id(), v.revision(), v.state().name(), v.inFlight(), v.served()))
                .toList();
    }

    /** @return hot instances of all functions, in any state but gone */
    public int liveInstances() {
        return pool == null ? 0 : pool.liveInstances();
    }

    /** @return whether the backend can run functions now */
    public ComponentHealth backendHealth() {
        return backend.health();
    }

    /**
     * Checks every part of the platform: the backend, and each store that implements {@link HealthCheck}.
     *
     * @return health by component name ({@code backend}, then the stores' names), in that order
     */
    public Map<String, ComponentHealth> health() {
        Map<String, ComponentHealth> report = new LinkedHashMap<>();
        report.put("backend", backend.health());
        if (registry instanceof HealthCheck check) {
            report.put(check.healthName(), check.health());
        }
        if (meteringStore != registry && meteringStore instanceof HealthCheck check) {
            // Both views of one store answer to the same name: check it once.
            report.computeIfAbsent(check.healthName(), name -> check.health());
        }
        return report;
    }

    /** @return the backend's name, e.g. {@code docker} */
    public String backendName() {
        return backend.name();
    }

    /** @return the options this platform runs with */
    public GrandaOptions options() {
        return options;
    }

    /** @return the clock this platform runs on */
    public Clock clock() {
        return clock;
    }

    /** @return calls under way right now */
    public int callsInFlight() {
        return inFlight.count();
    }

    private void checkDeployable(FunctionSpec spec) {
        options.limits().validate(spec);
        if (spec.mode() == ExecutionMode.RUN && !backend.capabilities().contains(BackendCapability.RUN_ONCE)) {
            throw new InvalidFunctionSpecException("mode", "backend '" + backend.name() + "' cannot run run-mode functions");
        }
        if (spec.mode() == ExecutionMode.HOT && !backend.capabilities().contains(BackendCapability.HOT_INSTANCES)) {
            throw new InvalidFunctionSpecException("mode", "backend '" + backend.name() + "' cannot run hot functions");
        }
    }

    /**
     * @return the function when it is the tenant's; another tenant's answers exactly as a missing one, so that names
     *         tell nobody what other tenants have
     */
    private DeployedFunction visible(String tenant, String name) {
        return cache.byName(name).filter(f -> f.ownedBy(tenant)).orElseThrow(() -> notFound(name));
    }

    /**
     * Runs a change of a function once sure, under {@link #changeLock}, that the function registered under its name
     * is still the one the caller checked (same id), not a successor created since.
     */
    private DeployedFunction whileStill(DeployedFunction checked, Supplier<DeployedFunction> change) {
        changeLock.lock();
        try {
            registry.find(checked.name()).filter(f -> f.id().equals(checked.id()))
                    .orElseThrow(() -> notFound(checked.name()));
            return change.get();
        } finally {
            changeLock.unlock();
        }
    }

    private static FunctionNotFoundException notFound(String name) {
        return new FunctionNotFoundException("no function named '" + name + "'");
    }

    /**
     * Shuts down in order, each step bounded on its own: stop taking calls, wait up to
     * {@link GrandaOptions#shutdownGrace()} for calls under way, store every pending record, remove every instance,
     * close the stores. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            int left = inFlight.closeAndAwait(options.shutdownGrace());
            if (left > 0) {
                LOG.atWarn().addKeyValue("calls", left).log("shutdown grace ran out with calls under way");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (pool != null) {
            pool.close();
        }
        housekeeping.shutdownNow();
        recorder.close(Duration.ofSeconds(30));
        closeQuietly(backend);
        closeQuietly(registry);
        if (meteringStore != registry) {
            closeQuietly(meteringStore);
        }
        if (apiKeyStore != registry && apiKeyStore != meteringStore) {
            closeQuietly(apiKeyStore);
        }
        LOG.info("Granda stopped");
    }

    private static void closeQuietly(Object resource) {
        if (resource instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.atWarn().setCause(e).addKeyValue("resource", resource.getClass().getSimpleName())
                        .log("close failed");
            }
        }
    }

    /** Builds a {@link Granda}; not thread-safe. */
    public static final class Builder {
        private Backend backend;
        private String backendName = "docker";
        private Map<String, String> backendSettings = Map.of();
        private String ownerId = "granda";
        private FunctionRegistry registry;
        private MeteringStore meteringStore;
        private Clock clock = Clock.systemUTC();
        private GrandaOptions options = GrandaOptions.DEFAULTS;
        private ApiKeyStore apiKeyStore;
        private boolean reapAtStart = true;
        private RuntimeCatalog runtimes = RuntimeCatalog.NONE;
        private ImageBuilder imageBuilder;
        private int recentLogsPerFunction = DEFAULT_RECENT_LOGS_PER_FUNCTION;
        private int authFailureLimit = AuthFailureLimiter.DEFAULT_LIMIT;
        private final List<PlatformListener> listeners = new ArrayList<>();

        private Builder() {
        }

        /** Adds a listener (e.g. metrics) told of stored invocation records and finished builds; may be repeated. */
        public Builder listener(PlatformListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Uses this backend; it wins over any {@link BackendProvider} on the classpath. */
        public Builder backend(Backend backend) {
            this.backend = backend;
            return this;
        }

        /** Picks the {@link BackendProvider} of this name when no backend is set in code (default {@code docker}). */
        public Builder backendName(String name) {
            this.backendName = name;
            return this;
        }

        /** Settings handed to the {@link BackendProvider}. */
        public Builder backendSettings(Map<String, String> settings) {
            this.backendSettings = Map.copyOf(settings);
            return this;
        }

        /**
         * The id that labels every instance this Granda creates, so that leftovers of a crash are found and removed
         * at start-up without touching anyone else's. Give each Granda sharing a backend its own.
         */
        public Builder ownerId(String ownerId) {
            this.ownerId = Objects.requireNonNull(ownerId);
            return this;
        }

        /** Where functions are kept (default: in memory). */
        public Builder registry(FunctionRegistry registry) {
            this.registry = registry;
            return this;
        }

        /** Where invocation records are kept (default: in memory). */
        public Builder meteringStore(MeteringStore store) {
            this.meteringStore = store;
            return this;
        }

        /** Where tenants and API keys are kept (default: in memory, with the tenant {@link Tenant#DEFAULT} only). */
        public Builder apiKeyStore(ApiKeyStore store) {
            this.apiKeyStore = store;
            return this;
        }

        /** The time source for timings and records (default: the UTC system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        /** Platform-wide settings (default {@link GrandaOptions#DEFAULTS}). */
        public Builder options(GrandaOptions options) {
            this.options = Objects.requireNonNull(options);
            return this;
        }

        /** The runtimes functions given as source may use (default none: functions can only be images). */
        public Builder runtimes(RuntimeCatalog catalog) {
            this.runtimes = Objects.requireNonNull(catalog);
            return this;
        }

        /** Builds images from source (default: the backend, when it is an {@link ImageBuilder}). */
        public Builder imageBuilder(ImageBuilder builder) {
            this.imageBuilder = builder;
            return this;
        }

        /**
         * How many calls {@link Granda#recentLogs} keeps per function, in memory (default 50); each keeps at most
         * {@link GrandaOptions#maxLogTailBytes()} of log.
         */
        public Builder recentLogsPerFunction(int calls) {
            if (calls < 1 || calls > 10_000) {
                throw new IllegalArgumentException("recentLogsPerFunction must be 1 to 10000, was " + calls);
            }
            this.recentLogsPerFunction = calls;
            return this;
        }

        /**
         * How many failed key checks a client may have within {@link AuthFailureLimiter#DEFAULT_WINDOW} before its
         * keys are refused unchecked for a while ({@link #authFailures()}); default
         * {@value AuthFailureLimiter#DEFAULT_LIMIT}, 0 for no limit.
         *
         * @throws IllegalArgumentException when not 0 to {@value AuthFailureLimiter#MAX_LIMIT}
         */
        public Builder authFailureLimit(int failures) {
            if (failures < 0 || failures > AuthFailureLimiter.MAX_LIMIT) {
                throw new IllegalArgumentException("authFailureLimit must be 0 to " + AuthFailureLimiter.MAX_LIMIT
                        + ", was " + failures);
            }
            this.authFailureLimit = failures;
            return this;
        }

        /** Whether {@link #build()} removes instances left by an earlier process with the same owner id (default yes). */
        public Builder reapLeftoversAtStart(boolean reap) {
            this.reapAtStart = reap;
            return this;
        }

        /**
         * @return a running Granda
         * @throws IllegalStateException       when no backend is set and no provider of the configured name is found
         * @throws BackendUnavailableException when reaping leftovers needs the backend and it cannot be reached
         */
        public Granda build() {
            Backend b = backend != null ? backend : loadBackend();
            // Reap before the Granda exists: if the backend is down, build() fails with nothing started.
            if (reapAtStart) {
                int reaped = b.reapLeftovers();
                if (reaped > 0) {
                    LOG.atInfo().addKeyValue("instances", reaped).addKeyValue("owner", ownerId)
                            .log("removed instances left by an earlier run");
                }
            }
            Granda granda = new Granda(this, b);
            granda.prewarmStoredFunctions();
            return granda;
        }

        private Backend loadBackend() {
            for (BackendProvider provider : ServiceLoader.load(BackendProvider.class)) {
                if (provider.name().equals(backendName)) {
                    return provider.create(ownerId, backendSettings);
                }
            }
            throw new IllegalStateException("no backend named '" + backendName
                    + "' on the classpath; add granda-docker or pass one to Granda.builder().backend(...)");
        }
    }
}
