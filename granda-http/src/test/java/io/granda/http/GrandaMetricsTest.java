package io.granda.http;

import io.granda.core.Billing;
import io.granda.core.BuildInfo;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.InvocationRequest;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncEventListener;
import io.granda.core.async.AsyncOptions;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventBacklog;
import io.granda.core.async.EventStatus;
import io.granda.core.async.GrandaEvents;
import io.granda.core.async.NewEvent;
import io.granda.core.memory.InMemoryEventStore;
import io.granda.core.spi.RunOnceResult;
import io.granda.core.access.Role;
import io.granda.core.access.Tenant;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.UsageSummary;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import io.helidon.webserver.WebServer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Granda's meters fed through the platform listener: exact totals, consistent tags, and {@code GET /metrics} in a
 * form Prometheus parses.
 */
class GrandaMetricsTest {

    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
    /** One sample line of the Prometheus text format: name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*)})? "
                    + "(-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( [0-9]+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private int seq;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private InvocationRecord record(String function, int memoryMb, long runMicros, Outcome outcome, boolean cold,
                                    long cpuMicros) {
        long queue = 250;
        long pull = cold ? 3_000 : 0;
        long start = cold ? 40_000 : 0;
        long init = cold ? 7_000 : 0;
        long wall = queue + pull + start + init + runMicros + 100;
        Instant begin = T0.plusSeconds(seq);
        return new InvocationRecord("call-" + (seq++), "default", "id-" + function, function, 1, begin,
                begin.plusNanos(wall * 1000), new InvocationRecord.PhaseMicros(queue, pull, start, init, runMicros),
                memoryMb, cpuMicros, outcome, outcome == Outcome.SUCCESS ? 0 : 1, cold, 10, 20);
    }

    private GrandaMetrics metrics(boolean jvm) {
        GrandaMetrics m = new GrandaMetrics(jvm);
        toClose.add(m);
        return m;
    }

    private static double counter(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).functionCounter().count();
    }

    @Test
    void billedTotalsAreExactlyWhatTheStoreComputesFromIntegerMibMilliseconds() {
        GrandaMetrics metrics = metrics(false);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics.bindTo(registry);
        Random random = new Random(42);
        int[] memories = {128, 192, 256, 1536, 3008};
        long[] runs = {0, 1, 999, 1000, 1001, 123_456, 29_999_999};
        Outcome[] outcomes = Outcome.values();
        Map<String, UsageSummary> expected = new HashMap<>();
        List<InvocationRecord> batch = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            String fn = i % 3 == 0 ? "a" : "b";
            long run = i < runs.length ? runs[i] : random.nextLong(5_000_000);
            InvocationRecord r = record(fn, memories[random.nextInt(memories.length)], run,
                    outcomes[random.nextInt(outcomes.length)], random.nextInt(10) == 0,
                    random.nextInt(4) == 0 ? -1 : random.nextLong(2_000_000));
            expected.merge(fn, UsageSummary.of(r), UsageSummary::plus);
            batch.add(r);
            if (batch.size() == 97) {
                metrics.invocationsStored(batch);
                batch = new ArrayList<>();
            }
        }
        metrics.invocationsStored(batch);

        for (String fn : List.of("a", "b")) {
            UsageSummary u = expected.get(fn);
            String[] tags = {"tenant", "default", "function", fn};
            // Exact: the same integer total, divided the same way.
            assertEquals(Billing.gbSeconds(u.mbMillis()), counter(registry, "granda.billed.gb.seconds", tags));
            assertEquals(u.gbSeconds(), counter(registry, "granda.billed.gb.seconds", tags));
            assertEquals(u.billedMillis() / 1000.0, counter(registry, "granda.billed", tags));
            assertEquals(u.cpuMicros() / 1_000_000.0, counter(registry, "granda.cpu", tags));
            assertEquals(u.coldStarts(), counter(registry, "granda.cold.starts", tags));
            assertEquals(10.0 * u.calls(), counter(registry, "granda.request", tags));
            assertEquals(20.0 * u.calls(), counter(registry, "granda.response", tags));
            double calls = registry.find("granda.invocations").tag("function", fn).functionCounters().stream()
                    .mapToDouble(c -> c.count()).sum();
            assertEquals(u.calls(), calls);
            double errors = registry.find("granda.invocations").tags("function", fn, "outcome", "function_error")
                    .functionCounters().stream().mapToDouble(c -> c.count()).sum();
            assertEquals(u.errors(), errors);
            long timed = registry.find("granda.invocation.duration").tag("function", fn).timers().stream()
                    .mapToLong(Timer::count).sum();
            assertEquals(u.calls(), timed);
            long coldTimed = registry.get("granda.cold.start").tags(tags).timer().count();
            assertEquals(u.coldStarts(), coldTimed);
        }
    }

    @Test
    void aRegistryBoundLateStillCountsEveryCallAndBuild() {
        GrandaMetrics metrics = metrics(false);
        metrics.invocationsStored(List.of(record("f", 128, 1500, Outcome.SUCCESS, true, 10),
                record("f", 128, 1500, Outcome.TIMEOUT, false, 10)));
        metrics.buildFinished(build("python", BuildInfo.Status.SUCCEEDED, 4));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics.bindTo(registry);
        metrics.invocationsStored(List.of(record("f", 128, 1500, Outcome.SUCCESS, false, 10)));
        assertEquals(3 * 128 * 2 / 1024.0 / 1000.0,
                counter(registry, "granda.billed.gb.seconds", "tenant", "default", "function", "f"));
        assertEquals(1.0, counter(registry, "granda.invocations", "function", "f", "outcome", "timeout",
                "cold", "false", "tenant", "default"));
        assertEquals(1.0, counter(registry, "granda.builds", "runtime", "python", "status", "succeeded"));
        // Timers count from when they were bound.
        assertEquals(1, registry.find("granda.invocation.duration").timers().stream().mapToLong(Timer::count).sum());
    }

    @Test
    void buildsAreCountedAndTimedByRuntimeAndStatus() {
        GrandaMetrics metrics = metrics(false);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics.bindTo(registry);
        metrics.buildFinished(build("python", BuildInfo.Status.SUCCEEDED, 12));
        metrics.buildFinished(build("python", BuildInfo.Status.FAILED, 3));
        metrics.buildFinished(build("go", BuildInfo.Status.SUCCEEDED, 30));
        assertEquals(1.0, counter(registry, "granda.builds", "runtime", "python", "status", "failed"));
        Timer t = registry.get("granda.build.duration").tags("runtime", "go", "status", "succeeded").timer();
        assertEquals(1, t.count());
        assertEquals(30.0, t.totalTime(java.util.concurrent.TimeUnit.SECONDS));
    }

    private static BuildInfo build(String runtime, BuildInfo.Status status, int seconds) {
        return new BuildInfo("b-" + runtime + status, "fn", runtime, status, 0, T0, T0.plusSeconds(seconds), "", "",
                "default");
    }

    @Test
    void everyMeterOfANameHasTheSameTagKeys() {
        GrandaMetrics metrics = metrics(true);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        toClose.add(registry::close);
        metrics.bindTo(registry);
        Granda granda = Granda.builder().backend(new FakeBackend()).listener(metrics).build();
        toClose.add(granda);
        metrics.watch(granda);
        List<InvocationRecord> records = new ArrayList<>();
        for (Outcome o : Outcome.values()) {
            records.add(record("x", 128, 10, o, true, -1));
            records.add(record("y", 256, 10, o, false, 5));
        }
        metrics.invocationsStored(records);
        metrics.buildFinished(build("node", BuildInfo.Status.FAILED, 1));
        GrandaEvents events = GrandaEvents.builder(granda, new InMemoryEventStore()).listener(metrics).start();
        toClose.add(events);
        metrics.watch(events);
        AsyncEvent event = new NewEvent("evt-1", "default", "id-x", "x", "schedule", InvocationRequest.of("p"), null,
                null, T0).queued();
        metrics.attemptEnded(event, AsyncEventListener.AttemptOutcome.FAILED);
        metrics.eventDead(event, AsyncEventListener.DeadReason.TOO_OLD);
        metrics.callbackEnded(event, false, "failed: connection refused");
        metrics.scheduleFired(event);

        Map<String, Set<Set<String>>> keysByName = registry.getMeters().stream().collect(Collectors.groupingBy(
                m -> m.getId().getName(), Collectors.mapping(GrandaMetricsTest::tagKeys, Collectors.toSet())));
        keysByName.forEach((name, keys) -> assertEquals(1, keys.size(), name + " has tag key sets " + keys));
        Set<String> call = Set.of("tenant", "function", "outcome", "cold");
        Set<String> fn = Set.of("tenant", "function");
        Map<String, Set<String>> expected = Map.ofEntries(
                Map.entry("granda.invocations", call),
                Map.entry("granda.invocation.duration", call),
                Map.entry("granda.invocation.run", call),
                Map.entry("granda.queue.wait", fn),
                Map.entry("granda.cold.start", fn),
                Map.entry("granda.cold.starts", fn),
                Map.entry("granda.billed.gb.seconds", fn),
                Map.entry("granda.billed", fn),
                Map.entry("granda.cpu", fn),
                Map.entry("granda.request", fn),
                Map.entry("granda.response", fn),
                Map.entry("granda.builds", Set.of("runtime", "status")),
                Map.entry("granda.build.duration", Set.of("runtime", "status")),
                Map.entry("granda.instances", Set.of("state")),
                Map.entry("granda.queued.calls", Set.of()),
                Map.entry("granda.calls.in.flight", Set.of()),
                Map.entry("granda.auth.failures", Set.of()),
                Map.entry("granda.auth.throttled", Set.of()),
                Map.entry("granda.events", Set.of("status")),
                Map.entry("granda.events.oldest.due.age", Set.of()),
                Map.entry("granda.event.attempts", Set.of("tenant", "function", "outcome")),
                Map.entry("granda.events.dead", Set.of("tenant", "function", "reason")),
                Map.entry("granda.event.callbacks", Set.of("result")),
                Map.entry("granda.schedule.firings", fn));
        expected.forEach((name, keys) -> assertEquals(Set.of(keys), keysByName.get(name), name));
        assertEquals(expected.keySet(), keysByName.keySet().stream().filter(n -> n.startsWith("granda."))
                .collect(Collectors.toSet()), "every granda meter is listed here (and in docs/metrics.md)");
        assertTrue(keysByName.containsKey("jvm.memory.used"));
        assertTrue(keysByName.containsKey("jvm.gc.pause") || keysByName.containsKey("jvm.gc.memory.allocated"));
        assertTrue(keysByName.containsKey("process.uptime"));
        assertTrue(granda.instancesByState().keySet().stream().allMatch(s ->
                registry.find("granda.instances").tag("state", s).gauge() != null));
    }

    @Test
    void failedAuthenticationsAndThrottledRequestsAreCounted() {
        GrandaMetrics metrics = metrics(false);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        toClose.add(registry::close);
        metrics.bindTo(registry);
        Granda granda = Granda.builder().backend(new FakeBackend()).authFailureLimit(3).build();
        toClose.add(granda);
        metrics.watch(granda);
        assertEquals(0.0, parse(registry.scrape()).get("granda_auth_failures_total"));
        for (int i = 0; i < 3; i++) {
            granda.authFailures().recordFailure("192.0.2.7");
        }
        // Over the limit now: each key of that address is refused unchecked, and counted so.
        assertTrue(granda.authFailures().retryAfter("192.0.2.7").isPresent());
        assertTrue(granda.authFailures().retryAfter("192.0.2.7").isPresent());
        assertTrue(granda.authFailures().retryAfter("198.51.100.1").isEmpty(), "another address goes on");
        Map<String, Double> samples = parse(registry.scrape());
        assertEquals(3.0, samples.get("granda_auth_failures_total"));
        assertEquals(2.0, samples.get("granda_auth_throttled_total"));
    }

    private static double gauge(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).gauge().value();
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within 20 s: " + what);
            Thread.sleep(5);
        }
    }

    private static RunOnceResult exited(int exitCode) {
        return new RunOnceResult(RunOnceResult.Termination.EXITED, exitCode, new byte[0], false, "", Duration.ZERO,
                Duration.ofMillis(30), Duration.ofMillis(1), -1);
    }

    @Test
    void eventMetersCountAttemptsAndDeathsAndTheGaugesShowTheQueue() throws Exception {
        FakeClock clock = new FakeClock(T0);
        FakeBackend backend = new FakeBackend();
        GrandaMetrics metrics = metrics(false);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        toClose.add(registry::close);
        metrics.bindTo(registry);
        Granda granda = Granda.builder().backend(backend).clock(clock).listener(metrics).build();
        toClose.add(granda);
        GrandaEvents events = GrandaEvents.builder(granda, new InMemoryEventStore())
                .options(AsyncOptions.DEFAULTS.withPollInterval(Duration.ofMillis(20))).listener(metrics).start();
        toClose.add(events);
        metrics.watch(granda).watch(events);
        String[] statuses = {"queued", "running", "failed", "dead"};
        for (String status : statuses) {
            assertEquals(0.0, gauge(registry, "granda.events", "status", status), "every status, at zero: " + status);
        }
        assertEquals(0.0, gauge(registry, "granda.events.oldest.due.age"));
        assertEquals(0.0, counter(registry, "granda.event.callbacks", "result", "failed"), "there before any callback");

        granda.deploy(FunctionSpec.builder("slow").image("granda/slow").build());
        granda.deploy(FunctionSpec.builder("broken").image("granda/broken").build());
        events.setPolicy("slow", new AsyncPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofHours(1), 1, null, null));
        events.setPolicy("broken", new AsyncPolicy(3, Duration.ofSeconds(1), Duration.ofMinutes(1),
                Duration.ofHours(1), 10, null, null));
        CountDownLatch release = new CountDownLatch(1);
        backend.withBehaviour(r -> {
            if (r.functionName().equals("broken")) {
                return exited(1);
            }
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return FakeBackend.echo(r);
        });

        // Queued: "slow" runs one event at a time, and its first holds the slot.
        String first = events.submit("slow", InvocationRequest.of("1"), null, null, "api").event().id();
        eventually("the first event runs", () -> events.event(first).orElseThrow().status() == EventStatus.RUNNING);
        clock.advance(Duration.ofMillis(1));
        String second = events.submit("slow", InvocationRequest.of("2"), null, null, "api").event().id();
        assertEquals(0.0, gauge(registry, "granda.events", "status", "queued"),
                "within the cache's time the gauges show their last reading");
        clock.advance(GrandaMetrics.EVENT_GAUGE_TTL.plusSeconds(1));
        assertEquals(1.0, gauge(registry, "granda.events", "status", "queued"));
        assertEquals(1.0, gauge(registry, "granda.events", "status", "running"));
        assertEquals(GrandaMetrics.EVENT_GAUGE_TTL.plusSeconds(1).toSeconds(),
                gauge(registry, "granda.events.oldest.due.age"), 1e-9, "the second has been due since it came");

        release.countDown();
        eventually("both succeed", () -> events.event(second).orElseThrow().status() == EventStatus.SUCCEEDED);

        // A failing function retried twice, then dead.
        String id = events.submit("broken", InvocationRequest.of("x"), null, null, "api").event().id();
        for (int attempt = 1; attempt <= 2; attempt++) {
            int n = attempt;
            eventually("attempt " + n + " failed", () -> events.event(id).orElseThrow().attempts() == n
                    && events.event(id).orElseThrow().status() == EventStatus.FAILED);
            clock.advance(Duration.ofSeconds(1L << (attempt - 1)));
            events.wake();
        }
        eventually("the event is dead", () -> events.event(id).orElseThrow().status() == EventStatus.DEAD);
        String[] broken = {"tenant", "default", "function", "broken"};
        eventually("the death counted", () -> registry.find("granda.events.dead").tags(broken)
                .tag("reason", "attempts_exhausted").functionCounter() != null
                && counter(registry, "granda.events.dead", "tenant", "default", "function", "broken", "reason",
                "attempts_exhausted") == 1.0);
        assertEquals(3.0, counter(registry, "granda.event.attempts", "tenant", "default", "function", "broken",
                "outcome", "failed"));
        assertEquals(0.0, counter(registry, "granda.event.attempts", "tenant", "default", "function", "broken",
                "outcome", "succeeded"), "every outcome of a function has a series, zeros included");
        assertEquals(0.0, counter(registry, "granda.events.dead", "tenant", "default", "function", "broken",
                "reason", "too_old"));
        assertEquals(2.0, counter(registry, "granda.event.attempts", "tenant", "default", "function", "slow",
                "outcome", "succeeded"));

        clock.advance(GrandaMetrics.EVENT_GAUGE_TTL);
        Map<String, Double> samples = parse(registry.scrape());
        assertEquals(1.0, samples.get("granda_events{status=\"dead\"}"));
        assertEquals(0.0, samples.get("granda_events{status=\"queued\"}"));
        assertEquals(0.0, samples.get("granda_events{status=\"running\"}"));
        assertEquals(0.0, samples.get("granda_events{status=\"failed\"}"));
        assertEquals(0.0, samples.get("granda_events_oldest_due_age_seconds"));
        assertEquals(3.0, samples.get("granda_event_attempts_total{function=\"broken\",outcome=\"failed\","
                + "tenant=\"default\"}"));
        assertEquals(1.0, samples.get("granda_events_dead_total{function=\"broken\",reason=\"attempts_exhausted\","
                + "tenant=\"default\"}"));
        assertEquals(0.0, samples.get("granda_event_callbacks_total{result=\"delivered\"}"));
        assertFalse(samples.keySet().stream().anyMatch(k -> k.contains(id)), "no event id is a label");
    }

    @Test
    void theBacklogIsReadOncePerTtlHoweverManyAskAndAFailedReadShowsNaN() {
        FakeClock clock = new FakeClock(T0);
        AtomicInteger reads = new AtomicInteger();
        boolean[] down = {false};
        CachedBacklog cached = new CachedBacklog(() -> {
            reads.incrementAndGet();
            if (down[0]) {
                throw new io.granda.core.StoreException("database is locked");
            }
            return new EventBacklog(Map.of(EventStatus.DEAD, (long) reads.get()), T0, clock.instant());
        }, clock, Duration.ofSeconds(2));

        for (int scrape = 0; scrape < 3; scrape++) {
            for (EventStatus s : EventBacklog.COUNTED) {
                cached.count(s);
            }
            cached.oldestDueAgeSeconds();
        }
        assertEquals(1, reads.get(), "three scrapes of five gauges within the ttl: one read");
        assertEquals(1.0, cached.count(EventStatus.DEAD));
        clock.advance(Duration.ofMillis(1999));
        assertEquals(1.0, cached.count(EventStatus.DEAD));
        clock.advance(Duration.ofMillis(1));
        assertEquals(2.0, cached.count(EventStatus.DEAD));
        assertEquals(2.0, cached.oldestDueAgeSeconds(), "due at T0, read at T0 + 2 s");

        down[0] = true;
        clock.advance(Duration.ofSeconds(2));
        assertTrue(Double.isNaN(cached.count(EventStatus.DEAD)), "not the last good count: it may be stale");
        assertTrue(Double.isNaN(cached.oldestDueAgeSeconds()));
        assertEquals(3, reads.get(), "a failure is kept for the ttl too");
        down[0] = false;
        clock.advance(Duration.ofSeconds(2));
        assertEquals(4.0, cached.count(EventStatus.DEAD));
        clock.set(T0);
        assertEquals(5.0, cached.count(EventStatus.DEAD), "a clock set back reads again");
    }

    private static Set<String> tagKeys(Meter m) {
        return m.getId().getTags().stream().map(Tag::getKey).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void getMetricsServesPrometheusTextThatAgreesWithTheUsageApi() throws Exception {
        GrandaMetrics metrics = metrics(true);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        toClose.add(registry::close);
        metrics.bindTo(registry);
        Granda granda = Granda.builder().backend(new FakeBackend()).listener(metrics).build();
        metrics.watch(granda);
        WebServer server = WebServer.builder().host("127.0.0.1").port(0).shutdownHook(false)
                .routing(r -> GrandaHttp.notFoundFallback(GrandaHttp.mountMetrics(
                        GrandaHttp.mount(r, granda, GrandaHttpConfig.DEFAULTS), registry)))
                .build().start();
        toClose.add(granda);
        toClose.add(server::stop);
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + server.port();
        String key = "Bearer " + granda.apiKeys().issue(Tenant.DEFAULT, Role.ADMIN, "metrics test").token();
        HttpResponse<String> created = client.send(HttpRequest.newBuilder(URI.create(base + "/functions"))
                .header("Authorization", key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"echo\",\"image\":\"granda/hello\",\"memoryMb\":192}"))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        String path = io.granda.http.internal.Json.MAPPER.readTree(created.body()).get("path").asText();
        for (int i = 0; i < 7; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + path))
                    .POST(HttpRequest.BodyPublishers.ofString("hi " + i)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        }
        // Reading usage flushes the recorder, which tells the listener before the read returns.
        HttpResponse<String> usage = client.send(HttpRequest.newBuilder(URI.create(base + "/functions/echo/usage"))
                .header("Authorization", key).build(), HttpResponse.BodyHandlers.ofString());
        var u = io.granda.http.internal.Json.MAPPER.readTree(usage.body());

        HttpResponse<String> scraped = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, scraped.statusCode());
        assertEquals(MetricsService.PROMETHEUS_TEXT, scraped.headers().firstValue("Content-Type").orElseThrow());
        Map<String, Double> samples = parse(scraped.body());
        String fn = "function=\"echo\",tenant=\"default\"";
        assertEquals(u.get("gbSeconds").asDouble(), samples.get("granda_billed_gb_seconds_total{" + fn + "}"));
        assertEquals(u.get("billedMs").asDouble() / 1000.0, samples.get("granda_billed_seconds_total{" + fn + "}"));
        assertEquals(7.0, u.get("calls").asDouble());
        String success = fn.replace(",", ",outcome=\"success\",");
        assertEquals(7.0, samples.get("granda_invocations_total{cold=\"true\"," + success + "}")
                + samples.getOrDefault("granda_invocations_total{cold=\"false\"," + success + "}", 0.0));
        double calls = samples.entrySet().stream().filter(e -> e.getKey().startsWith("granda_invocations_total{"))
                .mapToDouble(Map.Entry::getValue).sum();
        assertEquals(7.0, calls);
        assertEquals(7.0, samples.entrySet().stream()
                .filter(e -> e.getKey().startsWith("granda_invocation_duration_seconds_bucket{")
                        && e.getKey().contains("le=\"+Inf\""))
                .mapToDouble(Map.Entry::getValue).sum());
        // Every run-mode call starts a container: cold.
        assertNotNull(samples.get("granda_invocation_duration_seconds_bucket{cold=\"true\"," + fn.replace(",",
                ",le=\"0.001\",outcome=\"success\",") + "}"), "an SLO bucket of 1 ms");
        assertEquals(7.0, samples.get("granda_cold_starts_total{" + fn + "}"));
        assertEquals(0.0, samples.get("granda_instances{state=\"ready\"}"));
        assertEquals(0.0, samples.get("granda_queued_calls"));
        assertTrue(samples.containsKey("jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"}")
                || samples.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes{")));
        assertTrue(samples.containsKey("process_uptime_seconds"));
        assertTrue(scraped.body().contains("# TYPE granda_billed_gb_seconds_total counter")
                || scraped.body().contains("# TYPE granda_billed_gb_seconds counter"), scraped.body());

        HttpResponse<String> open = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, open.statusCode());
        assertEquals(MetricsService.OPENMETRICS_TEXT, open.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(open.body().endsWith("# EOF\n"), open.body());
        assertTrue(open.body().contains("granda_billed_gb_seconds_total{" + fn + "} "), open.body());
    }

    @Test
    void withATokenMetricsNeedItAndNothingElse() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        toClose.add(registry::close);
        registry.counter("granda_token_test").increment();
        Granda granda = Granda.builder().backend(new FakeBackend()).build();
        toClose.add(granda);
        String adminKey = granda.apiKeys().issue(Tenant.DEFAULT, Role.ADMIN, "not for metrics").token();
        WebServer server = WebServer.builder().host("127.0.0.1").port(0).shutdownHook(false)
                .routing(r -> GrandaHttp.notFoundFallback(GrandaHttp.mountMetrics(
                        GrandaHttp.mount(r, granda, GrandaHttpConfig.DEFAULTS), registry,
                        java.util.Optional.of("scrape-token-0123456789"))))
                .build().start();
        toClose.add(server::stop);
        HttpClient client = HttpClient.newHttpClient();
        URI metrics = URI.create("http://127.0.0.1:" + server.port() + "/metrics");
        for (String authorization : new String[] {null, "Bearer wrong", "Bearer scrape-token-012345678",
                "Bearer " + adminKey, "scrape-token-0123456789"}) {
            HttpRequest.Builder b = HttpRequest.newBuilder(metrics);
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, r.statusCode(), authorization);
            assertTrue(r.body().contains("\"unauthorized\""), r.body());
            assertEquals("Bearer realm=\"granda\"", r.headers().firstValue("WWW-Authenticate").orElse(null));
        }
        HttpResponse<String> ok = client.send(HttpRequest.newBuilder(metrics)
                .header("Authorization", "Bearer scrape-token-0123456789").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode());
        assertTrue(ok.body().contains("granda_token_test_total 1.0"), ok.body());
    }

    /** Parses the Prometheus text format strictly: every line is a comment or a well-formed sample. */
    private static Map<String, Double> parse(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            String labels = "";
            if (m.group(3) != null) {
                // Sorted, so that tests can name a series without knowing the writer's order.
                TreeSet<String> sorted = new TreeSet<>();
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    sorted.add(l.group(1) + "=\"" + l.group(2) + "\"");
                }
                labels = "{" + String.join(",", sorted) + "}";
            }
            String key = m.group(1) + labels;
            assertFalse(out.containsKey(key), "duplicate series " + key);
            out.put(key, Double.parseDouble(m.group(4).replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
        }
        return out;
    }
}
