package io.granda.http;

import io.granda.core.Billing;
import io.granda.core.BuildInfo;
import io.granda.core.Granda;
import io.granda.core.InvocationRecord;
import io.granda.core.access.AuthFailureLimiter;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncEventListener;
import io.granda.core.async.EventBacklog;
import io.granda.core.async.EventStatus;
import io.granda.core.async.GrandaEvents;
import io.granda.core.spi.PlatformListener;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Granda's metrics for Micrometer: what was called, how long it took, what it billed, the instances and queue, the
 * builds, asynchronous events, and the JVM. Listens to the platform ({@link PlatformListener}) and to the event engine
 * ({@link AsyncEventListener}), and binds to any number of registries ({@link MeterBinder}); {@code docs/metrics.md}
 * lists every meter as Prometheus shows it.
 *
 * <pre>{@code
 * GrandaMetrics metrics = new GrandaMetrics();
 * metrics.bindTo(registry);                                  // before traffic, so that timers see every call
 * Granda granda = Granda.builder().listener(metrics)...build();
 * metrics.watch(granda);                                      // instances and queue gauges
 * GrandaEvents events = GrandaEvents.builder(granda, store).listener(metrics).start();
 * metrics.watch(events);                                      // event queue gauges
 * ...
 * metrics.close();                                            // stops the GC listener
 * }</pre>
 *
 * <p>Counters of calls and of billed quantities are kept here, in exact integers ({@link LongAdder}), and shown
 * through function counters: a registry bound late still shows every call since this object was made, and billed
 * GB-seconds are computed from the integer MiB x ms total just as the store computes them
 * ({@link Billing#gbSeconds(long)}), so they equal {@code UsageSummary.gbSeconds()} over the same calls. Timers
 * (histograms) live in the registries and count from when they were bound.
 *
 * <p>Series are per function <em>name</em> (and tenant) and are never removed: a deleted function's series keep
 * their last values until restart, and a new function of the same name continues them. Every series is bounded by
 * the number of functions times the (fixed) outcomes, never by calls. Thread-safe.
 */
public final class GrandaMetrics implements PlatformListener, AsyncEventListener, MeterBinder, AutoCloseable {

    /** Bucket bounds of call-time histograms: 1 ms .. 60 s. */
    public static final List<Duration> CALL_BUCKETS = List.of(ms(1), ms(2), ms(5), ms(10), ms(25), ms(50), ms(100),
            ms(250), ms(500), ms(1000), ms(2500), ms(5000), ms(10_000), ms(30_000), ms(60_000));
    /** Bucket bounds of the build-time histogram: 1 s .. 10 min. */
    public static final List<Duration> BUILD_BUCKETS = List.of(ms(1000), ms(2500), ms(5000), ms(10_000), ms(30_000),
            ms(60_000), ms(120_000), ms(300_000), ms(600_000));

    static final String TENANT = "tenant";
    static final String FUNCTION = "function";
    static final String OUTCOME = "outcome";
    static final String COLD = "cold";
    static final String STATUS = "status";
    static final String REASON = "reason";
    static final String RESULT = "result";
    /**
     * How long the event queue gauges show one reading of the store: well under a scrape interval (15 s is usual), and
     * long enough that the five gauges of one scrape, and scrapers arriving together, share one reading.
     */
    static final Duration EVENT_GAUGE_TTL = Duration.ofSeconds(2);

    private final boolean jvmMetrics;
    private final List<Binding> bindings = new CopyOnWriteArrayList<>();
    private final Map<FunctionKey, FunctionTotals> functions = new ConcurrentHashMap<>();
    private final Map<CallKey, LongAdder> calls = new ConcurrentHashMap<>();
    private final Map<BuildKey, LongAdder> builds = new ConcurrentHashMap<>();
    private final Map<EventCounterKey, LongAdder> eventCounters = new ConcurrentHashMap<>();
    /** Functions whose event counters exist, zeros included. */
    private final Set<FunctionKey> eventFunctions = ConcurrentHashMap.newKeySet();
    private volatile Granda granda;
    /** Guards setting {@link #backlog} once. */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile CachedBacklog backlog;

    /** Granda's meters and the JVM's (memory, GC, threads, class loading, CPU, uptime). */
    public GrandaMetrics() {
        this(true);
    }

    /**
     * @param jvmMetrics whether {@link #bindTo} also binds the JVM's meters; false when the application binds its own
     */
    public GrandaMetrics(boolean jvmMetrics) {
        this.jvmMetrics = jvmMetrics;
        // Both results from the start, so that a rate of failed callbacks has a series before the first failure.
        for (String result : List.of("delivered", "failed")) {
            eventCounters.computeIfAbsent(new EventCounterKey(EventMeter.CALLBACKS, Tags.of(RESULT, result)),
                    this::newEventCounter);
        }
    }

    /**
     * Adds the gauges that read the platform: hot instances by state, queued calls, calls in flight. Call once, after
     * the platform (built with this as a listener) exists.
     *
     * @param platform the platform
     * @return this
     */
    public GrandaMetrics watch(Granda platform) {
        Objects.requireNonNull(platform, "platform");
        if (granda != null && granda != platform) {
            throw new IllegalStateException("already watching another platform");
        }
        granda = platform;
        for (Binding b : bindings) {
            b.registerGauges(platform);
        }
        return this;
    }

    /**
     * Adds the gauges of the event queue: events by status and the wait of the most overdue one, read from the
     * event store at most once per {@link #EVENT_GAUGE_TTL}. Call once, with the event engine built with this as a
     * listener (for the event counters).
     *
     * @param events the event engine
     * @return this
     */
    public GrandaMetrics watch(GrandaEvents events) {
        Objects.requireNonNull(events, "events");
        CachedBacklog b = new CachedBacklog(events::backlog, events.clock(), EVENT_GAUGE_TTL);
        lock.lock();
        try {
            if (backlog != null) {
                throw new IllegalStateException("already watching an event engine");
            }
            backlog = b;
        } finally {
            lock.unlock();
        }
        for (Binding binding : bindings) {
            binding.registerEventGauges(b);
        }
        return this;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        for (Binding b : bindings) {
            if (b.registry == registry) {
                return;
            }
        }
        Binding b = new Binding(registry);
        bindings.add(b);
        // Totals that exist already (re-registering an existing meter returns it, so racing with a new key is fine).
        functions.forEach(b::registerFunction);
        calls.forEach(b::registerCalls);
        builds.forEach(b::registerBuilds);
        eventCounters.forEach(b::registerEventCounter);
        Granda g = granda;
        if (g != null) {
            b.registerGauges(g);
        }
        CachedBacklog events = backlog;
        if (events != null) {
            b.registerEventGauges(events);
        }
        if (jvmMetrics) {
            b.bindJvm();
        }
    }

    @Override
    public void invocationsStored(List<InvocationRecord> records) {
        for (InvocationRecord r : records) {
            FunctionKey fk = new FunctionKey(r.tenant(), r.functionName());
            functions.computeIfAbsent(fk, this::newFunction).add(r);
            CallKey ck = new CallKey(fk, r.outcome().name().toLowerCase(Locale.ROOT), r.cold());
            calls.computeIfAbsent(ck, this::newCalls).increment();
            for (Binding b : bindings) {
                b.timersOf(ck).record(r);
            }
        }
    }

    @Override
    public void buildFinished(BuildInfo build) {
        String runtime = build.runtime() == null || build.runtime().isBlank() ? "unknown" : build.runtime();
        BuildKey key = new BuildKey(runtime, build.status().name().toLowerCase(Locale.ROOT));
        builds.computeIfAbsent(key, this::newBuilds).increment();
        if (build.started() != null && build.ended() != null) {
            Duration took = Duration.between(build.started(), build.ended());
            if (!took.isNegative()) {
                for (Binding b : bindings) {
                    b.buildTimer(key).record(took);
                }
            }
        }
    }

    @Override
    public void attemptEnded(AsyncEvent event, AttemptOutcome outcome) {
        FunctionKey fk = eventFunction(event);
        countEvent(new EventCounterKey(EventMeter.ATTEMPTS, fk.tags().and(OUTCOME, outcome.label())));
    }

    @Override
    public void eventDead(AsyncEvent event, DeadReason reason) {
        FunctionKey fk = eventFunction(event);
        countEvent(new EventCounterKey(EventMeter.DEAD, fk.tags().and(REASON, reason.label())));
    }

    @Override
    public void callbackEnded(AsyncEvent event, boolean delivered, String outcome) {
        countEvent(new EventCounterKey(EventMeter.CALLBACKS, Tags.of(RESULT, delivered ? "delivered" : "failed")));
    }

    @Override
    public void scheduleFired(AsyncEvent event) {
        FunctionKey fk = new FunctionKey(event.tenant(), event.functionName());
        countEvent(new EventCounterKey(EventMeter.FIRINGS, fk.tags()));
    }

    /**
     * The event's function, whose attempt and dead-event series are all made (at zero) the first time it is seen:
     * Prometheus' {@code increase()} misses the first increment of a series that appears with it, and the first dead
     * event is the one an alert must not miss. Bounded: functions times the fixed outcomes and reasons.
     */
    private FunctionKey eventFunction(AsyncEvent event) {
        FunctionKey fk = new FunctionKey(event.tenant(), event.functionName());
        if (eventFunctions.add(fk)) {
            for (AttemptOutcome o : AttemptOutcome.values()) {
                eventCounters.computeIfAbsent(new EventCounterKey(EventMeter.ATTEMPTS, fk.tags().and(OUTCOME,
                        o.label())), this::newEventCounter);
            }
            for (DeadReason r : DeadReason.values()) {
                eventCounters.computeIfAbsent(new EventCounterKey(EventMeter.DEAD, fk.tags().and(REASON, r.label())),
                        this::newEventCounter);
            }
        }
        return fk;
    }

    private void countEvent(EventCounterKey key) {
        eventCounters.computeIfAbsent(key, this::newEventCounter).increment();
    }

    /** Stops the JVM's GC listeners. The registries and their meters stay; their owner closes them. */
    @Override
    public void close() {
        for (Binding b : bindings) {
            b.close();
        }
    }

    private FunctionTotals newFunction(FunctionKey key) {
        FunctionTotals t = new FunctionTotals();
        for (Binding b : bindings) {
            b.registerFunction(key, t);
        }
        return t;
    }

    private LongAdder newCalls(CallKey key) {
        LongAdder n = new LongAdder();
        for (Binding b : bindings) {
            b.registerCalls(key, n);
        }
        return n;
    }

    private LongAdder newBuilds(BuildKey key) {
        LongAdder n = new LongAdder();
        for (Binding b : bindings) {
            b.registerBuilds(key, n);
        }
        return n;
    }

    private LongAdder newEventCounter(EventCounterKey key) {
        LongAdder n = new LongAdder();
        for (Binding b : bindings) {
            b.registerEventCounter(key, n);
        }
        return n;
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    private record FunctionKey(String tenant, String function) {
        Tags tags() {
            return Tags.of(TENANT, tenant, FUNCTION, function);
        }
    }

    private record CallKey(FunctionKey function, String outcome, boolean cold) {
        Tags tags() {
            return function.tags().and(OUTCOME, outcome, COLD, Boolean.toString(cold));
        }
    }

    /** The event counters: each name with its fixed tag keys. */
    private enum EventMeter {
        ATTEMPTS("granda.event.attempts", "Ended attempts of asynchronous events, by function and outcome"),
        DEAD("granda.events.dead", "Events that became dead (retries used up, too old, function deleted), by reason"),
        CALLBACKS("granda.event.callbacks", "Callbacks of final events, by result, after their retries"),
        FIRINGS("granda.schedule.firings", "Schedule firings that stored an event, by function");

        final String meterName;
        final String description;

        EventMeter(String meterName, String description) {
            this.meterName = meterName;
            this.description = description;
        }
    }

    private record EventCounterKey(EventMeter meter, Tags tags) {
    }

    private record BuildKey(String runtime, String status) {
        Tags tags() {
            return Tags.of("runtime", runtime, "status", status);
        }
    }

    /** Exact running totals of one function's calls. */
    private static final class FunctionTotals {
        final LongAdder mbMillis = new LongAdder();
        final LongAdder billedMillis = new LongAdder();
        final LongAdder cpuMicros = new LongAdder();
        final LongAdder requestBytes = new LongAdder();
        final LongAdder responseBytes = new LongAdder();
        final LongAdder coldStarts = new LongAdder();

        void add(InvocationRecord r) {
            long billed = r.billedMillis();
            billedMillis.add(billed);
            mbMillis.add(Billing.mbMillis(r.memoryMb(), billed));
            if (r.cpuMicros() >= 0) {
                cpuMicros.add(r.cpuMicros());
            }
            requestBytes.add(r.requestBytes());
            responseBytes.add(r.responseBytes());
            if (r.cold()) {
                coldStarts.increment();
            }
        }
    }

    /** The timers of one kind of call in one registry. */
    private record CallTimers(Timer duration, Timer run, Timer queueWait, Timer coldStart) {
        void record(InvocationRecord r) {
            duration.record(Duration.between(r.start(), r.end()));
            run.record(r.runMicros(), TimeUnit.MICROSECONDS);
            queueWait.record(r.queueMicros(), TimeUnit.MICROSECONDS);
            if (r.cold()) {
                coldStart.record(r.phases().coldStartMicros(), TimeUnit.MICROSECONDS);
            }
        }
    }

    /** What is registered in one registry. */
    private final class Binding {
        final MeterRegistry registry;
        final Map<CallKey, CallTimers> timers = new ConcurrentHashMap<>();
        final Map<BuildKey, Timer> buildTimers = new ConcurrentHashMap<>();
        final List<JvmGcMetrics> gc = new CopyOnWriteArrayList<>();
        final ReentrantLock gaugeLock = new ReentrantLock();
        /** Guarded by {@link #gaugeLock}. */
        boolean gauges;
        /** Guarded by {@link #gaugeLock}. */
        boolean eventGauges;

        Binding(MeterRegistry registry) {
            this.registry = registry;
        }

        void registerFunction(FunctionKey key, FunctionTotals t) {
            Tags tags = key.tags();
            FunctionCounter.builder("granda.billed.gb.seconds", t.mbMillis, a -> Billing.gbSeconds(a.sum()))
                    .tags(tags).description("Billed GB-seconds: memory (GiB) times billed run time (s), as the usage API"
                            + " computes it").register(registry);
            FunctionCounter.builder("granda.billed", t.billedMillis, a -> a.sum() / 1000.0)
                    .tags(tags).baseUnit("seconds")
                    .description("Billed run time: each call's run time rounded up to the whole millisecond")
                    .register(registry);
            FunctionCounter.builder("granda.cpu", t.cpuMicros, a -> a.sum() / 1_000_000.0)
                    .tags(tags).baseUnit("seconds")
                    .description("CPU time of the calls whose CPU time the backend could read").register(registry);
            FunctionCounter.builder("granda.request", t.requestBytes, LongAdder::doubleValue)
                    .tags(tags).baseUnit("bytes").description("Payload bytes sent to functions").register(registry);
            FunctionCounter.builder("granda.response", t.responseBytes, LongAdder::doubleValue)
                    .tags(tags).baseUnit("bytes").description("Output bytes functions answered").register(registry);
            FunctionCounter.builder("granda.cold.starts", t.coldStarts, LongAdder::doubleValue)
                    .tags(tags).description("Calls that paid a cold start").register(registry);
        }

        void registerCalls(CallKey key, LongAdder n) {
            FunctionCounter.builder("granda.invocations", n, LongAdder::doubleValue).tags(key.tags())
                    .description("Calls, by function, outcome and whether they were cold").register(registry);
        }

        void registerBuilds(BuildKey key, LongAdder n) {
            FunctionCounter.builder("granda.builds", n, LongAdder::doubleValue).tags(key.tags())
                    .description("Finished builds of functions from source, by runtime and status").register(registry);
        }

        CallTimers timersOf(CallKey key) {
            return timers.computeIfAbsent(key, k -> {
                Tags tags = k.tags();
                Tags fn = k.function().tags();
                return new CallTimers(
                        callTimer("granda.invocation.duration", tags,
                                "Wall time of calls, from accepted to answered, queueing and cold start included"),
                        callTimer("granda.invocation.run", tags, "The functions' own run time: what is billed"),
                        callTimer("granda.queue.wait", fn, "Time calls waited for an instance or capacity"),
                        callTimer("granda.cold.start", fn, "Cold start time of cold calls: image pull, start, init"));
            });
        }

        private Timer callTimer(String name, Tags tags, String description) {
            return Timer.builder(name).tags(tags).description(description)
                    .serviceLevelObjectives(CALL_BUCKETS.toArray(Duration[]::new))
                    .register(registry);
        }

        Timer buildTimer(BuildKey key) {
            return buildTimers.computeIfAbsent(key, k -> Timer.builder("granda.build.duration").tags(k.tags())
                    .description("Time builds took, from start to end")
                    .serviceLevelObjectives(BUILD_BUCKETS.toArray(Duration[]::new))
                    .register(registry));
        }

        void registerGauges(Granda platform) {
            gaugeLock.lock();
            try {
                if (gauges) {
                    return;
                }
                gauges = true;
            } finally {
                gaugeLock.unlock();
            }
            for (String state : platform.instancesByState().keySet()) {
                Gauge.builder("granda.instances", platform, g -> g.instancesByState().getOrDefault(state, 0))
                        .tag("state", state).strongReference(true)
                        .description("Hot instances of every function, by state").register(registry);
            }
            Gauge.builder("granda.queued.calls", platform, Granda::queuedCalls).strongReference(true)
                    .description("Calls waiting for a hot instance now").register(registry);
            Gauge.builder("granda.calls.in.flight", platform, Granda::callsInFlight).strongReference(true)
                    .description("Calls under way now").register(registry);
            AuthFailureLimiter auth = platform.authFailures();
            FunctionCounter.builder("granda.auth.failures", auth, AuthFailureLimiter::failures)
                    .description("Requests whose API key was refused: invalid, unknown, revoked or expired")
                    .register(registry);
            FunctionCounter.builder("granda.auth.throttled", auth, AuthFailureLimiter::refusals)
                    .description("Requests answered 429 unchecked: their address failed too often lately")
                    .register(registry);
        }

        void registerEventGauges(CachedBacklog events) {
            gaugeLock.lock();
            try {
                if (eventGauges) {
                    return;
                }
                eventGauges = true;
            } finally {
                gaugeLock.unlock();
            }
            // Per platform, not per function: see docs/metrics.md (a per-function count would add series for every
            // deleted function that still has dead letters, and the counters already say which function fails).
            for (EventStatus status : EventBacklog.COUNTED) {
                Gauge.builder("granda.events", events, c -> c.count(status)).tag(STATUS, status.apiName())
                        .strongReference(true)
                        .description("Asynchronous events by status now: queued, running, failed (a retry is due"
                                + " later) and dead").register(registry);
            }
            Gauge.builder("granda.events.oldest.due.age", events, CachedBacklog::oldestDueAgeSeconds)
                    .baseUnit("seconds").strongReference(true)
                    .description("How long the pending event that has been due longest has waited for a slot since it"
                            + " became due; 0 when none is due").register(registry);
        }

        void registerEventCounter(EventCounterKey key, LongAdder n) {
            FunctionCounter.builder(key.meter().meterName, n, LongAdder::doubleValue).tags(key.tags())
                    .description(key.meter().description).register(registry);
        }

        void bindJvm() {
            new JvmMemoryMetrics().bindTo(registry);
            JvmGcMetrics gcMetrics = new JvmGcMetrics();
            gcMetrics.bindTo(registry);
            gc.add(gcMetrics);
            new JvmThreadMetrics().bindTo(registry);
            new ClassLoaderMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            new UptimeMetrics().bindTo(registry);
        }

        void close() {
            for (JvmGcMetrics g : gc) {
                g.close();
            }
            gc.clear();
        }
    }
}
