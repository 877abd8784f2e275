package io.granda.store;

import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionSpec;
import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.granda.store.TestData.record;
import static io.granda.store.TestData.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What is written survives closing the store and opening the same file again. */
class SqliteStoreRestartTest {

    private static final Instant T0 = Instant.parse("2026-02-03T04:05:06.789012Z");

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock(T0);

    private SqliteStore open(Path db) {
        return SqliteStore.open(SqliteStoreConfig.defaults(db), clock);
    }

    @Test
    void everyFunctionRevisionRouteAndRecordSurvivesARestart() {
        Path db = dir.resolve("restart.db");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("Z_LAST", "zäh");
        env.put("A_FIRST", "");
        env.put("M_MIDDLE", "a=b;c\nd");

        List<DeployedFunction> listed;
        List<DeployedFunction> alphaRevisions;
        List<DeployedFunction> betaRevisions;
        DeployedFunction deleted;
        List<InvocationRecord> records = new ArrayList<>();
        UsageSummary usage;
        List<UsageBucket> series;
        List<FunctionUsage> byFunction;
        try (SqliteStore store = open(db)) {
            DeployedFunction alpha = store.functions().create(spec("alpha").toBuilder().env(env).build());
            clock.advance(Duration.ofSeconds(10));
            store.functions().update(spec("alpha").toBuilder().mode(ExecutionMode.HOT).memoryMb(512)
                    .description("second ✓").env(Map.of()).build(), 1);
            clock.advance(Duration.ofSeconds(10));
            store.functions().update(spec("alpha").toBuilder().timeout(Duration.ofMillis(2500)).env(env).build(), 2);
            DeployedFunction beta = store.functions().create(spec("beta"));
            store.functions().create(spec("gamma"));
            deleted = store.functions().delete("gamma").orElseThrow();

            for (int i = 0; i < 250; i++) {
                String fn = i % 5 == 0 ? deleted.id() : i % 2 == 0 ? alpha.id() : beta.id();
                records.add(new InvocationRecord("inv-" + i, "tenant-" + (i % 3), fn, "name-" + i, 1 + i % 3,
                        T0.plusNanos(i * 1_234_567_000L), T0.plusNanos(i * 1_234_567_000L + 987_000L), new InvocationRecord.PhaseMicros(i, 0, 0, i * 2L, i * 3L), 128 + i, i % 4 == 0 ? -1 : i, Outcome.values()[i % 4], i % 7 - 1, i % 2 == 0,
                        i * 10L, i * 20L));
            }
            assertEquals(records.subList(0, 100), store.metering().append(records.subList(0, 100)));
            assertEquals(records.subList(100, 250), store.metering().append(records.subList(100, 250)));

            listed = store.functions().list();
            alphaRevisions = store.functions().revisions("alpha");
            betaRevisions = store.functions().revisions("beta");
            usage = store.metering().usage(null, T0, T0.plusSeconds(3600));
            series = store.metering().usageSeries(RecordFilter.all(T0, T0.plusSeconds(3600)), Granularity.MINUTE);
            byFunction = store.metering().usageByFunction(RecordFilter.all(T0, T0.plusSeconds(3600)));
            assertEquals(3, alphaRevisions.size());
            assertEquals(List.of(alpha.id(), beta.id()), listed.stream().map(DeployedFunction::id).toList());
        }

        try (SqliteStore store = open(db)) {
            assertEquals(listed, store.functions().list());
            for (DeployedFunction f : listed) {
                assertEquals(Optional.of(f), store.functions().find(f.name()));
                assertEquals(Optional.of(f), store.functions().findByRoute(f.routeId()));
                assertEquals(List.copyOf(f.spec().env().entrySet()),
                        List.copyOf(store.functions().find(f.name()).orElseThrow().spec().env().entrySet()));
            }
            assertEquals(alphaRevisions, store.functions().revisions("alpha"));
            for (int i = 0; i < alphaRevisions.size(); i++) {
                FunctionSpec before = alphaRevisions.get(i).spec();
                FunctionSpec after = store.functions().revisions("alpha").get(i).spec();
                assertEquals(List.copyOf(before.env().entrySet()), List.copyOf(after.env().entrySet()));
            }
            assertEquals(betaRevisions, store.functions().revisions("beta"));
            assertEquals(Optional.empty(), store.functions().findByRoute(deleted.routeId()));
            assertEquals(List.of(), store.functions().revisions("gamma"));

            for (InvocationRecord r : records) {
                assertEquals(Optional.of(r), store.metering().find(r.invocationId()));
            }
            assertEquals(usage, store.metering().usage(null, T0, T0.plusSeconds(3600)));
            assertEquals(usage, UsageSummary.sum(series));
            assertEquals(series, store.metering().usageSeries(RecordFilter.all(T0, T0.plusSeconds(3600)),
                    Granularity.MINUTE));
            assertEquals(byFunction, store.metering().usageByFunction(RecordFilter.all(T0, T0.plusSeconds(3600))));
            for (String fn : List.of(listed.get(0).id(), listed.get(1).id(), deleted.id())) {
                List<InvocationRecord> expected = records.stream().filter(r -> r.functionId().equals(fn)).toList();
                assertEquals(expected.reversed(), walk(store, fn, 7));
            }

            // Idempotency holds across the restart, and the store goes on where it stopped.
            assertEquals(List.of(), store.metering().append(records));
            assertEquals(series, store.metering().usageSeries(RecordFilter.all(T0, T0.plusSeconds(3600)),
                    Granularity.MINUTE), "a replayed batch adds nothing to the aggregates");
            InvocationRecord later = record("after-restart", deleted.id(), T0.plusSeconds(7200));
            assertEquals(List.of(later), store.metering().append(List.of(later)));
            assertEquals(later, store.metering().invocations(deleted.id(), 1, null).items().getFirst());
            clock.advance(Duration.ofSeconds(10));
            DeployedFunction v4 = store.functions().update(spec("alpha"), 3);
            assertEquals(4, v4.revision());
            assertEquals(listed.getFirst().createdAt(), v4.createdAt());
        }
    }

    @Test
    void deletingAFunctionKeepsItsInvocationRecords() {
        try (SqliteStore store = open(dir.resolve("keep.db"))) {
            DeployedFunction f = store.functions().create(spec("billed"));
            List<InvocationRecord> records = List.of(record("r1", f.id(), T0), record("r2", f.id(), T0.plusMillis(1)));
            store.metering().append(records);

            store.functions().delete("billed");
            DeployedFunction again = store.functions().create(spec("billed"));

            assertEquals(Optional.of(records.getFirst()), store.metering().find("r1"));
            assertEquals(records.reversed(), store.metering().invocations(f.id(), 10, null).items());
            assertEquals(2, store.metering().usage(f.id(), T0, T0.plusSeconds(1)).calls());
            assertTrue(store.metering().invocations(again.id(), 10, null).items().isEmpty(),
                    "the new function of the same name starts with no records");
        }
    }

    private static List<InvocationRecord> walk(SqliteStore store, String functionId, int pageSize) {
        List<InvocationRecord> all = new ArrayList<>();
        String cursor = null;
        do {
            Page<InvocationRecord> page = store.metering().invocations(functionId, pageSize, cursor);
            all.addAll(page.items());
            cursor = page.nextCursor();
        } while (cursor != null);
        return all;
    }
}
