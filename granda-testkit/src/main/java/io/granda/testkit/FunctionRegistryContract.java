package io.granda.testkit;

import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionAlreadyExistsException;
import io.granda.core.FunctionLimits;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.RevisionConflictException;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.SourceFile;
import io.granda.core.spi.FunctionRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compatibility suite every {@link FunctionRegistry} must pass. An implementation's test extends this class and
 * supplies a fresh, empty registry per test from {@link #createRegistry(FakeClock)}; every documented behaviour of
 * the SPI is checked here, so two registries that pass it are interchangeable.
 *
 * <p>The suite owns the clock: the registry must take every time it records from the {@link FakeClock} it is given,
 * and keep it to the microsecond at least (the clock starts at a time with microseconds). A registry that is
 * {@link AutoCloseable} is closed after each test.
 *
 * <pre>{@code
 * class MyRegistryTest extends FunctionRegistryContract {
 *     protected FunctionRegistry createRegistry(FakeClock clock) {
 *         return new MyRegistry(clock);
 *     }
 * }
 * }</pre>
 */
public abstract class FunctionRegistryContract {

    /** What comes after {@code name-} in a route id: at least 24 characters of lowercase base32. */
    private static final Pattern ROUTE_SECRET = Pattern.compile("[0-9a-z]{24,}");

    /** The time the suite starts at; microseconds included so that a store that truncates them is caught. */
    protected static final Instant START = Instant.parse("2026-03-01T10:15:30.123456Z");

    /** The clock handed to the registry; tests move it. */
    protected final FakeClock clock = new FakeClock(START);

    private FunctionRegistry registry;

    /**
     * @param clock the only time source the registry may use for created and updated times
     * @return a new registry holding no functions
     */
    protected abstract FunctionRegistry createRegistry(FakeClock clock);

    /** @return the registry under test */
    protected final FunctionRegistry registry() {
        return registry;
    }

    @BeforeEach
    void createRegistryUnderTest() {
        registry = createRegistry(clock);
    }

    @AfterEach
    void closeRegistryUnderTest() throws Exception {
        if (registry instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    // ---- create ----

    @Test
    void createMakesRevisionOneWithIdRouteAndClockTimes() {
        DeployedFunction created = registry.create(spec("hello"));

        assertEquals(1, created.revision());
        assertEquals("hello", created.name());
        assertTrue(!created.id().isBlank(), "id must be set");
        assertEquals(START, created.createdAt());
        assertEquals(START, created.updatedAt());
        assertSameSpec(spec("hello"), created.spec());
        assertRouteShape("hello", created.routeId());
    }

    @Test
    void routeIdsAreUniqueAndCarryAtLeast24RandomCharacters() {
        // Every function is created at the same instant, so only randomness can tell their routes apart.
        Set<String> ids = new HashSet<>();
        Set<String> secrets = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            String name = "fn-" + i;
            DeployedFunction f = registry.create(spec(name));
            assertRouteShape(name, f.routeId());
            assertTrue(ids.add(f.id()), "function ids must be unique: " + f.id());
            assertTrue(secrets.add(f.routeId().substring(name.length() + 1)),
                    "route secrets must not repeat: " + f.routeId());
        }
    }

    @Test
    void createOfAnExistingNameFailsAndChangesNothing() {
        DeployedFunction original = registry.create(spec("taken"));
        clock.advance(Duration.ofMinutes(1));
        FunctionSpec other = spec("taken").toBuilder().image("other/image:2").memoryMb(512).build();

        assertThrows(FunctionAlreadyExistsException.class, () -> registry.create(other));

        assertEquals(Optional.of(original), registry.find("taken"));
        assertEquals(Optional.of(original), registry.findByRoute(original.routeId()));
        assertEquals(List.of(original), registry.list());
    }

    // ---- find, findByRoute, list ----

    @Test
    void findAndFindByRouteReturnTheCurrentRevision() {
        DeployedFunction created = registry.create(spec("finder"));

        assertEquals(Optional.of(created), registry.find("finder"));
        assertEquals(Optional.of(created), registry.findByRoute(created.routeId()));
    }

    @Test
    void findOfUnknownNameOrRouteIsEmpty() {
        DeployedFunction created = registry.create(spec("known"));

        assertEquals(Optional.empty(), registry.find("unknown"));
        assertEquals(Optional.empty(), registry.findByRoute("unknown-abcdefghjkmnpqrstvwxyz0123"));
        // The name alone is not a route, nor is a route with its secret cut short.
        assertEquals(Optional.empty(), registry.findByRoute("known"));
        assertEquals(Optional.empty(), registry.findByRoute(created.routeId().substring(0, created.routeId().length() - 1)));
    }

    @Test
    void listIsEmptyAtFirst() {
        assertEquals(List.of(), registry.list());
    }

    @Test
    void listReturnsCurrentRevisionsOrderedByName() {
        List<String> created = List.of("zeta", "alpha2", "beta", "alpha", "alpha-2", "m0", "m");
        for (String name : created) {
            registry.create(spec(name));
            clock.advance(Duration.ofSeconds(1));
        }
        DeployedFunction beta = registry.find("beta").orElseThrow();
        DeployedFunction betaV2 = registry.update(spec("beta").toBuilder().memoryMb(256).build(), beta.revision());

        List<DeployedFunction> listed = registry.list();

        assertEquals(created.stream().sorted().toList(), listed.stream().map(DeployedFunction::name).toList());
        assertEquals(betaV2, listed.stream().filter(f -> f.name().equals("beta")).findFirst().orElseThrow());
        for (DeployedFunction f : listed) {
            assertEquals(Optional.of(f), registry.find(f.name()));
        }
    }

    // ---- update ----

    @Test
    void updateMakesTheNextRevisionKeepingIdRouteAndCreatedAt() {
        DeployedFunction v1 = registry.create(spec("updated"));
        clock.advance(Duration.ofMinutes(5).plusNanos(7_000));
        FunctionSpec changed = spec("updated").toBuilder().image("granda/other:2").memoryMb(1024)
                .mode(ExecutionMode.HOT).build();

        DeployedFunction v2 = registry.update(changed, 1);

        assertEquals(2, v2.revision());
        assertEquals(v1.id(), v2.id());
        assertEquals(v1.routeId(), v2.routeId());
        assertEquals(v1.createdAt(), v2.createdAt());
        assertEquals(clock.instant(), v2.updatedAt());
        assertSameSpec(changed, v2.spec());
        assertEquals(Optional.of(v2), registry.find("updated"));
        assertEquals(Optional.of(v2), registry.findByRoute(v1.routeId()));
    }

    @Test
    void everyUpdateAddsOneRevisionEvenWhenTheSpecIsUnchanged() {
        registry.create(spec("counter"));
        DeployedFunction current = null;
        for (long expected = 1; expected <= 5; expected++) {
            clock.advance(Duration.ofSeconds(1));
            current = registry.update(spec("counter"), expected);
            assertEquals(expected + 1, current.revision());
            assertEquals(clock.instant(), current.updatedAt());
        }
        assertEquals(Optional.of(current), registry.find("counter"));
    }

    @Test
    void updateWithAStaleRevisionFailsAndChangesNothing() {
        registry.create(spec("guarded"));
        clock.advance(Duration.ofSeconds(1));
        DeployedFunction v2 = registry.update(spec("guarded").toBuilder().memoryMb(256).build(), 1);
        clock.advance(Duration.ofSeconds(1));
        FunctionSpec lost = spec("guarded").toBuilder().memoryMb(2048).build();

        assertThrows(RevisionConflictException.class, () -> registry.update(lost, 1));
        assertThrows(RevisionConflictException.class, () -> registry.update(lost, 3));
        assertThrows(RevisionConflictException.class, () -> registry.update(lost, 0));

        assertEquals(Optional.of(v2), registry.find("guarded"));
        assertEquals(Optional.of(v2), registry.findByRoute(v2.routeId()));
        assertEquals(List.of(v2), registry.list());
    }

    @Test
    void updateOfAnUnknownFunctionFails() {
        assertThrows(FunctionNotFoundException.class, () -> registry.update(spec("ghost"), 1));
        assertEquals(List.of(), registry.list());
    }

    @Test
    void updateOfADeletedFunctionFails() {
        registry.create(spec("gone"));
        registry.delete("gone");

        assertThrows(FunctionNotFoundException.class, () -> registry.update(spec("gone"), 1));
        assertEquals(Optional.empty(), registry.find("gone"));
    }

    // ---- delete ----

    @Test
    void deleteReturnsTheCurrentRevisionAndTheRouteStopsResolving() {
        DeployedFunction v1 = registry.create(spec("doomed"));
        clock.advance(Duration.ofSeconds(1));
        DeployedFunction v2 = registry.update(spec("doomed").toBuilder().description("second").build(), 1);
        DeployedFunction other = registry.create(spec("survivor"));

        assertEquals(Optional.of(v2), registry.delete("doomed"));

        assertEquals(Optional.empty(), registry.find("doomed"));
        assertEquals(Optional.empty(), registry.findByRoute(v1.routeId()));
        assertEquals(List.of(other), registry.list());
        assertEquals(Optional.of(other), registry.findByRoute(other.routeId()));
    }

    @Test
    void deleteOfAnUnknownOrAlreadyDeletedFunctionIsEmpty() {
        assertEquals(Optional.empty(), registry.delete("never"));
        registry.create(spec("once"));
        assertTrue(registry.delete("once").isPresent());
        assertEquals(Optional.empty(), registry.delete("once"));
    }

    @Test
    void recreatingADeletedNameMakesANewFunction() {
        DeployedFunction old = registry.create(spec("phoenix"));
        clock.advance(Duration.ofSeconds(1));
        registry.update(spec("phoenix").toBuilder().memoryMb(256).build(), 1);
        registry.delete("phoenix");
        clock.advance(Duration.ofSeconds(1));

        DeployedFunction reborn = registry.create(spec("phoenix"));

        assertEquals(1, reborn.revision());
        assertNotEquals(old.id(), reborn.id());
        assertNotEquals(old.routeId(), reborn.routeId());
        assertRouteShape("phoenix", reborn.routeId());
        assertEquals(clock.instant(), reborn.createdAt());
        assertEquals(Optional.empty(), registry.findByRoute(old.routeId()));
        assertEquals(Optional.of(reborn), registry.findByRoute(reborn.routeId()));
        assertEquals(Optional.of(reborn), registry.find("phoenix"));
    }

    // ---- what is stored comes back exactly ----

    @Test
    void everySpecFieldRoundTripsExactly() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ZETA", "last letter first");
        env.put("ALPHA", "Grüße, 世界 🌍 — \"quoted\" 'single' \\back\\slash");
        env.put("EMPTY", "");
        env.put("SEPARATORS", "a=b;c,d:e|f\tg\nh\r\ni%20j&k#l");
        env.put("SPACES", "  leading and trailing  ");
        env.put("_under_score", "x");
        env.put("B", "=");
        FunctionSpec full = FunctionSpec.builder("everything")
                .description("Ünïcödé description ✓ with a\nnewline")
                .image("registry.example.com:5000/team/fn-name_v2:1.2.3@sha256:"
                        + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
                .mode(ExecutionMode.HOT)
                .timeout(Duration.ofSeconds(754).plusMillis(250).plusNanos(1))
                .memoryMb(3008)
                .env(env)
                .isPrivate(true)
                .build();
        FunctionLimits.DEFAULTS.validate(full); // the registry is only ever given valid specs

        DeployedFunction created = registry.create(full);

        assertSameSpec(full, created.spec());
        assertSameSpec(full, registry.find("everything").orElseThrow().spec());
        assertSameSpec(full, registry.findByRoute(created.routeId()).orElseThrow().spec());
        assertSameSpec(full, registry.list().getFirst().spec());
        assertSameSpec(full, registry.delete("everything").orElseThrow().spec());
    }

    // ---- tenants and private functions ----

    @Test
    void aFunctionKeepsItsTenantAcrossUpdatesAndReads() {
        DeployedFunction created = registry.create("acme", spec("owned"), null);
        assertEquals("acme", created.tenant());
        assertEquals("acme", registry.find("owned").orElseThrow().tenant());
        assertEquals("acme", registry.findByRoute(created.routeId()).orElseThrow().tenant());

        DeployedFunction v2 = registry.update(spec("owned").toBuilder().memoryMb(256).build(), 1);

        assertEquals("acme", v2.tenant(), "an update never changes the tenant");
        assertEquals(Optional.of(v2), registry.find("owned"));
        assertEquals("acme", registry.list().getFirst().tenant());
        assertEquals("acme", registry.delete("owned").orElseThrow().tenant());
    }

    @Test
    void withoutATenantAFunctionIsTheDefaultTenants() {
        assertEquals(io.granda.core.access.Tenant.DEFAULT, registry.create(spec("plain")).tenant());
    }

    @Test
    void namesAreUniqueAcrossTenants() {
        DeployedFunction first = registry.create("acme", spec("shared-name"), null);

        assertThrows(FunctionAlreadyExistsException.class, () -> registry.create("globex", spec("shared-name"), null));

        assertEquals(List.of(first), registry.list());
    }

    @Test
    void thePrivateFlagIsKeptPerRevision() {
        FunctionSpec closed = spec("secretive").toBuilder().isPrivate(true).build();
        DeployedFunction v1 = registry.create("acme", closed, null);
        assertTrue(v1.spec().isPrivate());
        assertTrue(registry.findByRoute(v1.routeId()).orElseThrow().spec().isPrivate());

        DeployedFunction v2 = registry.update(spec("secretive"), 1);

        assertEquals(false, v2.spec().isPrivate());
        assertEquals(false, registry.find("secretive").orElseThrow().spec().isPrivate());
    }

    @Test
    void emptyDescriptionAndEmptyEnvRoundTrip() {
        FunctionSpec bare = FunctionSpec.builder("bare").image("busybox").description("").env(Map.of()).build();

        registry.create(bare);

        DeployedFunction found = registry.find("bare").orElseThrow();
        assertSameSpec(bare, found.spec());
        assertEquals("", found.spec().description());
        assertEquals(Map.of(), found.spec().env());
    }

    @Test
    void envOrderIsKeptAcrossUpdates() {
        List<String> names = new ArrayList<>();
        Map<String, String> many = new LinkedHashMap<>();
        for (int i = 63; i >= 0; i--) {
            // Neither alphabetical nor numeric order, so a store that sorts is caught.
            String name = "VAR_" + Integer.toString((i * 37) % 64, 36).toUpperCase();
            names.add(name);
            many.put(name, "value " + i);
        }
        registry.create(spec("ordered").toBuilder().env(many).build());
        assertEquals(names, List.copyOf(registry.find("ordered").orElseThrow().spec().env().keySet()));

        Map<String, String> reversed = new LinkedHashMap<>();
        for (String name : names.reversed()) {
            reversed.put(name, many.get(name));
        }
        DeployedFunction v2 = registry.update(spec("ordered").toBuilder().env(reversed).build(), 1);

        assertEquals(names.reversed(), List.copyOf(v2.spec().env().keySet()));
        assertEquals(names.reversed(), List.copyOf(registry.find("ordered").orElseThrow().spec().env().keySet()));
    }

    @Test
    void largeEnvValuesRoundTrip() {
        String big = "ß".repeat(8_000) + "🌍".repeat(2_000);
        FunctionSpec s = FunctionLimits.DEFAULTS.validate(spec("large").toBuilder().env(Map.of("BIG", big)).build());

        registry.create(s);

        assertEquals(big, registry.find("large").orElseThrow().spec().env().get("BIG"));
    }

    // ---- concurrency ----

    @Test
    @Timeout(120) // guards against a hang only; no timing is asserted
    void concurrentUpdatesOfOneRevisionLetExactlyOneWin() throws Exception {
        registry.create(spec("contended"));
        int threads = 16;
        AtomicInteger conflicts = new AtomicInteger();
        List<DeployedFunction> winners = runConcurrently(threads, i -> {
            try {
                return registry.update(spec("contended").toBuilder().memoryMb(128 + i).build(), 1);
            } catch (RevisionConflictException e) {
                conflicts.incrementAndGet();
                return null;
            }
        });

        assertEquals(1, winners.size(), "exactly one update of revision 1 may succeed");
        assertEquals(threads - 1, conflicts.get());
        assertEquals(Optional.of(winners.getFirst()), registry.find("contended"));
        assertEquals(2, winners.getFirst().revision());
    }

    @Test
    @Timeout(120) // guards against a hang only; no timing is asserted
    void concurrentCreatesOfOneNameLetExactlyOneWin() throws Exception {
        int threads = 16;
        AtomicInteger refused = new AtomicInteger();
        List<DeployedFunction> winners = runConcurrently(threads, i -> {
            try {
                return registry.create(spec("race").toBuilder().memoryMb(128 + i).build());
            } catch (FunctionAlreadyExistsException e) {
                refused.incrementAndGet();
                return null;
            }
        });

        assertEquals(1, winners.size(), "exactly one create of a name may succeed");
        assertEquals(threads - 1, refused.get());
        assertEquals(List.of(winners.getFirst()), registry.list());
    }

    @Test
    @Timeout(120) // guards against a hang only; no timing is asserted
    void concurrentCreatesOfDistinctNamesAllSucceed() throws Exception {
        List<DeployedFunction> created = runConcurrently(32, i -> registry.create(spec("many-" + i)));

        assertEquals(32, created.size());
        assertEquals(32, registry.list().size());
        assertEquals(32, created.stream().map(DeployedFunction::routeId).distinct().count());
    }

    // ---- helpers ----

    @Test
    void theSourceOfABuiltFunctionIsKeptWithEachRevision() {
        FunctionSource v1 = new FunctionSource("python", List.of(
                SourceFile.text("handler.py", "def handle(request):\n    return 'v1'\n"),
                SourceFile.text("requirements.txt", "requests\n"),
                new SourceFile("lib/data.bin", new byte[] {0, 1, 2, (byte) 255})));
        DeployedFunction created = registry().create(spec("built").toBuilder().runtime("python").build(), v1);
        assertEquals("python", registry().find("built").orElseThrow().spec().runtime());
        FunctionSource read = registry().source(created.id(), 1).orElseThrow();
        assertEquals("python", read.runtime());
        assertEquals(3, read.files().size());
        assertArrayEquals(v1.file("lib/data.bin").orElseThrow().content(),
                read.file("lib/data.bin").orElseThrow().content());
        assertEquals("requests\n", read.file("requirements.txt").orElseThrow().contentAsString());

        FunctionSource v2 = new FunctionSource("python", List.of(SourceFile.text("handler.py", "v2")));
        DeployedFunction updated = registry().update(created.spec(), 1, v2);
        assertEquals(List.of("handler.py"), registry().source(created.id(), updated.revision()).orElseThrow()
                .files().stream().map(SourceFile::path).toList());
        assertEquals(3, registry().source(created.id(), 1).orElseThrow().files().size(),
                "an older revision keeps its own source");

        registry().delete("built");
        assertTrue(registry().source(created.id(), 1).isEmpty());
        assertTrue(registry().source(created.id(), 2).isEmpty());
    }

    @Test
    void aFunctionGivenAsAnImageHasNoSource() {
        DeployedFunction f = registry().create(spec("plain"));
        assertEquals("", f.spec().runtime());
        assertTrue(registry().source(f.id(), 1).isEmpty());
        assertTrue(registry().source("no-such-id", 1).isEmpty());
        assertTrue(registry().source(f.id(), 7).isEmpty());
    }

    /** @return a spec with the given name and a plain image; every other field at its default */
    protected static FunctionSpec spec(String name) {
        return FunctionSpec.builder(name).image("granda/hello:latest").build();
    }

    /**
     * Compares every field, and the environment's order too ({@link Map#equals} ignores order).
     */
    protected static void assertSameSpec(FunctionSpec expected, FunctionSpec actual) {
        assertEquals(expected, actual);
        assertEquals(List.copyOf(expected.env().entrySet()), List.copyOf(actual.env().entrySet()),
                "env entries and their order");
    }

    private static void assertRouteShape(String name, String routeId) {
        assertTrue(routeId.startsWith(name + "-"), "route id '" + routeId + "' must start with '" + name + "-'");
        String secret = routeId.substring(name.length() + 1);
        assertTrue(ROUTE_SECRET.matcher(secret).matches(),
                "route id '" + routeId + "' must end in at least 24 random lowercase base32 characters");
    }

    /** A task run by one of several threads released at once; a null result counts as no result. */
    @FunctionalInterface
    protected interface IndexedTask<T> {
        T run(int index) throws Exception;
    }

    /**
     * Runs {@code task} on {@code threads} threads that start together.
     *
     * @return the non-null results
     */
    protected static <T> List<T> runConcurrently(int threads, IndexedTask<T> task) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    go.await();
                    return task.run(index);
                }));
            }
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                T result = f.get();
                if (result != null) {
                    results.add(result);
                }
            }
            return results;
        }
    }
}
