package io.granda.testkit;

import io.granda.core.Billing;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.UsageSummary;
import io.granda.core.spi.MeteringStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compatibility suite every {@link MeteringStore} must pass. An implementation's test extends this class and
 * supplies a fresh, empty store per test from {@link #createStore(FakeClock)}; every documented behaviour of the SPI
 * is checked here, so two stores that pass it bill identically.
 *
 * <p>Record times carry microseconds: a store must keep instants to the microsecond at least. Records are appended
 * in the order they started, so "newest first" means the same whether a store orders by arrival or by start. A store
 * that is {@link AutoCloseable} is closed after each test.
 *
 * <pre>{@code
 * class MyMeteringStoreTest extends MeteringStoreContract {
 *     protected MeteringStore createStore(FakeClock clock) {
 *         return new MyMeteringStore();
 *     }
 * }
 * }</pre>
 */
public abstract class MeteringStoreContract {

    /** A time with microseconds, so that a store that truncates them is caught. */
    protected static final Instant T0 = Instant.parse("2026-03-01T10:15:30.123456Z");

    /** The clock handed to the store, for stores that keep time of their own. */
    protected final FakeClock clock = new FakeClock(T0);

    private MeteringStore store;

    /**
     * @param clock the time source the store must use if it needs one
     * @return a new store holding no records
     */
    protected abstract MeteringStore createStore(FakeClock clock);

    /** @return the store under test */
    protected final MeteringStore store() {
        return store;
    }

    @BeforeEach
    void createStoreUnderTest() {
        store = createStore(clock);
    }

    @AfterEach
    void closeStoreUnderTest() throws Exception {
        if (store instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    // ---- append and find ----

    @Test
    void appendStoresRecordsAndCountsThem() {
        List<InvocationRecord> batch = List.of(record("a", "fn-1", T0), record("b", "fn-1", T0.plusMillis(1)),
                record("c", "fn-2", T0.plusMillis(2)));

        assertEquals(3, store.append(batch));

        for (InvocationRecord r : batch) {
            assertEquals(Optional.of(r), store.find(r.invocationId()));
        }
    }

    @Test
    void appendOfAnEmptyBatchStoresNothing() {
        assertEquals(0, store.append(List.of()));
        assertEquals(UsageSummary.EMPTY, store.usage(null, Instant.EPOCH, T0.plus(Duration.ofDays(365))));
    }

    @Test
    void findOfAnUnknownIdIsEmpty() {
        store.append(List.of(record("known", "fn-1", T0)));

        assertEquals(Optional.empty(), store.find("unknown"));
    }

    @Test
    void appendingTheSameBatchTwiceStoresItOnce() {
        List<InvocationRecord> batch = List.of(record("a", "fn-1", T0), record("b", "fn-1", T0.plusMillis(1)),
                record("c", "fn-1", T0.plusMillis(2)));

        assertEquals(3, store.append(batch));
        assertEquals(0, store.append(batch));

        assertEquals(3, store.usage("fn-1", T0, T0.plusSeconds(1)).calls());
        assertEquals(3, allInvocations("fn-1", 10).size());
    }

    @Test
    void overlappingBatchesCountOnlyNewRecords() {
        InvocationRecord a = record("a", "fn-1", T0);
        InvocationRecord b = record("b", "fn-1", T0.plusMillis(1));
        InvocationRecord c = record("c", "fn-1", T0.plusMillis(2));
        InvocationRecord d = record("d", "fn-1", T0.plusMillis(3));
        InvocationRecord e = record("e", "fn-1", T0.plusMillis(4));

        assertEquals(3, store.append(List.of(a, b, c)));
        assertEquals(2, store.append(List.of(b, c, d, e)));
        assertEquals(0, store.append(List.of(e, a)));

        assertEquals(List.of(e, d, c, b, a), allInvocations("fn-1", 2));
        assertEquals(5, store.usage("fn-1", T0, T0.plusSeconds(1)).calls());
    }

    @Test
    void aDuplicateInsideOneBatchIsStoredOnce() {
        InvocationRecord a = record("a", "fn-1", T0);
        InvocationRecord b = record("b", "fn-1", T0.plusMillis(1));

        assertEquals(2, store.append(List.of(a, b, a)));

        assertEquals(List.of(b, a), allInvocations("fn-1", 10));
    }

    @Test
    void aRecordWithAStoredIdIsIgnoredEvenWhenItDiffers() {
        InvocationRecord first = record("same-id", "fn-1", T0);
        InvocationRecord retried = withRun(record("same-id", "fn-1", T0.plusSeconds(5)), 999_999);

        assertEquals(1, store.append(List.of(first)));
        assertEquals(0, store.append(List.of(retried)));

        assertEquals(Optional.of(first), store.find("same-id"));
    }

    // ---- every field comes back exactly ----

    @Test
    void everyRecordFieldRoundTripsExactly() {
        List<InvocationRecord> records = new ArrayList<>();
        int i = 0;
        for (Outcome outcome : Outcome.values()) {
            for (boolean cold : new boolean[] {true, false}) {
                Instant start = T0.plusNanos(i * 1_001_000L + 7_000L);
                records.add(new InvocationRecord("01jroundtrip" + i, "tenant-" + i, "fn-rt", "round-trip-" + i,
                        i + 1, start, start.plusNanos(123_457_000L * (i + 1)), new InvocationRecord.PhaseMicros(i * 11L, i * 13L, i * 17L, cold ? 456_789L : 0, 1_000_001L + i), 128 + 64 * i,
                        i % 2 == 0 ? -1L : 12_345L * i, outcome,
                        outcome == Outcome.SUCCESS ? 0 : outcome == Outcome.TIMEOUT ? InvocationResult.NO_EXIT_CODE
                                : 137,
                        cold, (6L << 30) + i, i == 0 ? 0 : Long.MAX_VALUE / (i + 1)));
                i++;
            }
        }
        // Before the epoch, microseconds and all: a store that rounds towards zero is caught.
        Instant beforeEpoch = Instant.parse("1969-12-31T23:59:59.999999Z");
        records.add(new InvocationRecord("pre-epoch", InvocationRecord.DEFAULT_TENANT, "fn-rt", "old", 1,
                beforeEpoch, beforeEpoch.plusNanos(2_000), new InvocationRecord.PhaseMicros(0, 0, 0, 0, 0), 6, 0, Outcome.SUCCESS, 0, false, 0, 0));
        // Far in the future, and an exit code that is negative but not "no exit code".
        Instant future = Instant.parse("2999-12-31T23:59:59.999999Z");
        records.add(new InvocationRecord("far-future", "Ünïcødé tenant ✓", "fn-rt", "naïve-name", Long.MAX_VALUE,
                future, future, new InvocationRecord.PhaseMicros(0, 0, 0, 0, 0), Integer.MAX_VALUE, -1, Outcome.FUNCTION_ERROR, Integer.MIN_VALUE, true,
                Long.MAX_VALUE, 0));

        assertEquals(records.size(), store.append(records));

        for (InvocationRecord r : records) {
            assertEquals(Optional.of(r), store.find(r.invocationId()));
        }
        assertEquals(records.reversed(), allInvocations("fn-rt", 3));
    }

    // ---- listing ----

    @Test
    void invocationsAreListedNewestFirstAcrossPagesWithoutDuplicatesOrGaps() {
        List<InvocationRecord> mine = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            // Another function's records are interleaved and must never show up.
            InvocationRecord r = record(String.format("mine-%03d", i), "fn-mine", T0.plusMillis(i));
            mine.add(r);
            store.append(List.of(r, record(String.format("theirs-%03d", i), "fn-theirs", T0.plusMillis(i))));
        }

        List<Integer> pageSizes = new ArrayList<>();
        List<InvocationRecord> walked = new ArrayList<>();
        String cursor = null;
        do {
            Page<InvocationRecord> page = store.invocations("fn-mine", 5, cursor);
            pageSizes.add(page.items().size());
            walked.addAll(page.items());
            cursor = page.nextCursor();
        } while (cursor != null && pageSizes.size() < 100);

        assertEquals(List.of(5, 5, 5, 5, 3), pageSizes);
        assertEquals(mine.reversed(), walked);
    }

    @Test
    void aFullLastPageHasNoNextCursor() {
        List<InvocationRecord> batch = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            batch.add(record("r" + i, "fn-1", T0.plusMillis(i)));
        }
        store.append(batch);

        Page<InvocationRecord> first = store.invocations("fn-1", 5, null);
        assertNotNull(first.nextCursor());
        Page<InvocationRecord> second = store.invocations("fn-1", 5, first.nextCursor());

        assertEquals(batch.subList(5, 10).reversed(), first.items());
        assertEquals(batch.subList(0, 5).reversed(), second.items());
        assertNull(second.nextCursor());
    }

    @Test
    void aPageLargerThanTheListingHoldsEverythingAndNoCursor() {
        store.append(List.of(record("a", "fn-1", T0), record("b", "fn-1", T0.plusMillis(1))));

        Page<InvocationRecord> page = store.invocations("fn-1", 1000, null);

        assertEquals(List.of("b", "a"), page.items().stream().map(InvocationRecord::invocationId).toList());
        assertNull(page.nextCursor());
    }

    @Test
    void invocationsOfAFunctionWithoutRecordsAreAnEmptyLastPage() {
        store.append(List.of(record("a", "fn-1", T0)));

        Page<InvocationRecord> page = store.invocations("fn-none", 10, null);

        assertEquals(List.of(), page.items());
        assertNull(page.nextCursor());
    }

    @Test
    void pagingIsStableWhileNewRecordsArrive() {
        List<InvocationRecord> older = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            older.add(record("old-" + i, "fn-1", T0.plusMillis(i)));
        }
        store.append(older);
        Page<InvocationRecord> first = store.invocations("fn-1", 4, null);

        store.append(List.of(record("new-0", "fn-1", T0.plusSeconds(1)), record("new-1", "fn-1", T0.plusSeconds(2))));
        List<InvocationRecord> rest = new ArrayList<>();
        String cursor = first.nextCursor();
        while (cursor != null) {
            Page<InvocationRecord> page = store.invocations("fn-1", 4, cursor);
            rest.addAll(page.items());
            cursor = page.nextCursor();
        }

        assertEquals(older.subList(6, 10).reversed(), first.items());
        assertEquals(older.subList(0, 6).reversed(), rest);
    }

    @Test
    void aCursorNotMadeByTheStoreIsRefused() {
        store.append(List.of(record("a", "fn-1", T0), record("b", "fn-1", T0.plusMillis(1))));

        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "not-a-cursor"));
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "-1"));
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "%%%"));
    }

    @Test
    void aPageSizeBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 0, null));
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", -1, null));
    }

    // ---- usage ----

    @Test
    void usageSumsEveryFieldExactly() {
        Instant s = T0;
        store.append(List.of(
                // 1.999 ms wall -> 1 ms compute; 0 us run -> billed 1 ms (the minimum); 128 MiB.
                new InvocationRecord("u1", "t", "fn-u", "u", 1, s, s.plusNanos(1_999_000), new InvocationRecord.PhaseMicros(0, 0, 0, 0, 0), 128, -1,
                        Outcome.SUCCESS, 0, true, 10, 20),
                // 10 ms wall; 1000 us run -> 1 ms; 256 MiB.
                new InvocationRecord("u2", "t", "fn-u", "u", 1, s.plusMillis(1), s.plusMillis(11), new InvocationRecord.PhaseMicros(0, 0, 0, 0, 1000), 256,
                        -1, Outcome.FUNCTION_ERROR, 1, false, 0, 0),
                // 2000.5 ms wall -> 2000; 1001 us run -> 2 ms; 512 MiB.
                new InvocationRecord("u3", "t", "fn-u", "u", 2, s.plusMillis(2), s.plusMillis(2).plusNanos(2_000_500_000L), new InvocationRecord.PhaseMicros(5, 0, 0, 1_000_000, 1001), 512, 900, Outcome.TIMEOUT, InvocationResult.NO_EXIT_CODE, true, 0, 0),
                // 5 ms wall; 4_500_000 us run -> 4500 ms; 1024 MiB.
                new InvocationRecord("u4", "t", "fn-u", "u", 2, s.plusMillis(3), s.plusMillis(8), new InvocationRecord.PhaseMicros(0, 0, 0, 0, 4_500_000), 1024,
                        -1, Outcome.OUT_OF_MEMORY, 137, false, 0, 0),
                // Another function, same window: only in the all-functions total.
                new InvocationRecord("o1", "t", "fn-other", "o", 1, s.plusMillis(4), s.plusMillis(1004), new InvocationRecord.PhaseMicros(0, 0, 0, 0, 999),
                        64, -1, Outcome.SUCCESS, 0, true, 0, 0)));

        UsageSummary fn = store.usage("fn-u", s, s.plusSeconds(60));
        assertEquals(new UsageSummary(4, 1, 1, 1, 2,
                1 + 10 + 2000 + 5,
                1 + 1 + 2 + 4500,
                128 * 1 + 256 * 1 + 512 * 2 + 1024 * 4500), fn);

        UsageSummary all = store.usage(null, s, s.plusSeconds(60));
        assertEquals(new UsageSummary(5, 1, 1, 1, 3,
                1 + 10 + 2000 + 5 + 1000,
                1 + 1 + 2 + 4500 + 1,
                128 * 1 + 256 * 1 + 512 * 2 + 1024 * 4500 + 64 * 1), all);
    }

    @Test
    void usageCountsStartsInAHalfOpenWindowToTheMicrosecond() {
        Instant since = T0;
        Instant until = T0.plusSeconds(3600);
        Duration oneMicro = Duration.ofNanos(1_000);
        store.append(List.of(
                record("before", "fn-w", since.minus(oneMicro)),
                record("at-since", "fn-w", since),
                record("inside", "fn-w", since.plusSeconds(1800)),
                record("just-before-until", "fn-w", until.minus(oneMicro)),
                record("at-until", "fn-w", until),
                record("after", "fn-w", until.plusSeconds(1))));

        assertEquals(3, store.usage("fn-w", since, until).calls());
        assertEquals(1, store.usage("fn-w", since, since.plus(oneMicro)).calls());
        assertEquals(1, store.usage("fn-w", until.minus(oneMicro), until).calls());
        assertEquals(6, store.usage("fn-w", since.minusSeconds(1), until.plusSeconds(2)).calls());
        assertEquals(UsageSummary.EMPTY, store.usage("fn-w", since, since));
        assertEquals(UsageSummary.EMPTY, store.usage("fn-w", until.plusSeconds(2), until.plusSeconds(3)));
        assertEquals(UsageSummary.EMPTY, store.usage("fn-none", since, until));
    }

    @Test
    void usageAgreesWithBillingOverManyRecords() {
        List<InvocationRecord> batch = new ArrayList<>();
        long calls = 0, errors = 0, timeouts = 0, oom = 0, cold = 0, compute = 0, billed = 0, mbMillis = 0;
        Outcome[] outcomes = Outcome.values();
        for (int i = 0; i < 500; i++) {
            Instant start = T0.plusMillis(i * 7L).plusNanos((i % 1000) * 1_000L);
            long runMicros = (i * 7919L) % 3_000_000;
            Outcome outcome = outcomes[i % outcomes.length];
            InvocationRecord r = new InvocationRecord("m" + i, "t", "fn-m", "m", 1, start,
                    start.plusNanos(runMicros * 1_000 + (i % 3) * 333_000), new InvocationRecord.PhaseMicros(0, 0, 0, 0, runMicros), 128 + (i % 8) * 128,
                    -1, outcome, 0, i % 3 == 0, 0, 0);
            batch.add(r);
            calls++;
            errors += outcome == Outcome.FUNCTION_ERROR ? 1 : 0;
            timeouts += outcome == Outcome.TIMEOUT ? 1 : 0;
            oom += outcome == Outcome.OUT_OF_MEMORY ? 1 : 0;
            cold += r.cold() ? 1 : 0;
            compute += r.durationMillis();
            billed += r.billedMillis();
            mbMillis += Billing.mbMillis(r.memoryMb(), r.billedMillis());
        }
        store.append(batch);
        store.append(batch.subList(100, 200)); // a retried part must not count twice

        assertEquals(new UsageSummary(calls, errors, timeouts, oom, cold, compute, billed, mbMillis),
                store.usage("fn-m", T0, T0.plusSeconds(3600)));
    }

    // ---- concurrency ----

    @Test
    @Timeout(300) // guards against a hang only; no timing is asserted
    void concurrentAppendsWithDuplicatesCountEveryRecordExactlyOnce() throws Exception {
        int threads = 16;
        int perThread = 200;
        int batchSize = 25;
        List<List<InvocationRecord>> slices = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<InvocationRecord> slice = new ArrayList<>();
            for (int i = 0; i < perThread; i++) {
                slice.add(record("c-" + t + "-" + i, "fn-c", T0.plusMillis(t * perThread + i)));
            }
            slices.add(slice);
        }

        CountDownLatch go = new CountDownLatch(1);
        long added = 0;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<InvocationRecord> own = slices.get(t);
                List<InvocationRecord> neighbour = slices.get((t + 1) % threads);
                futures.add(pool.submit(() -> {
                    go.await();
                    int mine = 0;
                    for (int from = 0; from < perThread; from += batchSize) {
                        // Each batch carries its own records, a record repeated inside it, and records that
                        // belong to the neighbouring thread, which may or may not have stored them yet.
                        List<InvocationRecord> batch = new ArrayList<>(own.subList(from, from + batchSize));
                        batch.add(own.get(from));
                        batch.addAll(neighbour.subList(from, from + 5));
                        mine += store.append(batch);
                        mine += store.append(own.subList(from, from + batchSize)); // a whole retry: 0 new
                    }
                    return mine;
                }));
            }
            go.countDown();
            for (Future<Integer> f : futures) {
                added += f.get();
            }
        }

        long total = (long) threads * perThread;
        assertEquals(total, added, "the counts append returned must add up to the distinct records");
        assertEquals(total, store.usage("fn-c", T0, T0.plusSeconds(3600)).calls());
        List<InvocationRecord> listed = allInvocations("fn-c", 333);
        assertEquals(total, listed.size());
        Set<String> ids = new HashSet<>();
        listed.forEach(r -> ids.add(r.invocationId()));
        assertEquals(total, ids.size());
    }

    // ---- helpers ----

    /**
     * @return a successful, warm record of 1.5 ms run time and 2 ms wall time at 128 MiB
     */
    protected static InvocationRecord record(String invocationId, String functionId, Instant start) {
        return new InvocationRecord(invocationId, InvocationRecord.DEFAULT_TENANT, functionId, "fn", 1, start,
                start.plusNanos(2_000_000), new InvocationRecord.PhaseMicros(0, 0, 0, 0, 1_500), 128, -1, Outcome.SUCCESS, 0, false, 0, 0);
    }

    /** @return the same record with another run time */
    protected static InvocationRecord withRun(InvocationRecord r, long runMicros) {
        return new InvocationRecord(r.invocationId(), r.tenant(), r.functionId(), r.functionName(), r.revision(),
                r.start(), r.end(), new InvocationRecord.PhaseMicros(r.queueMicros(), r.phases().pullMicros(),
                        r.phases().startMicros(), r.initMicros(), runMicros), r.memoryMb(), r.cpuMicros(),
                r.outcome(), r.exitCode(), r.cold(), r.requestBytes(), r.responseBytes());
    }

    /** @return every record of the function, walking pages of the given size, asserting each page is full but the last */
    protected final List<InvocationRecord> allInvocations(String functionId, int pageSize) {
        List<InvocationRecord> all = new ArrayList<>();
        String cursor = null;
        do {
            Page<InvocationRecord> page = store.invocations(functionId, pageSize, cursor);
            cursor = page.nextCursor();
            if (cursor != null) {
                assertEquals(pageSize, page.items().size(), "only the last page may be short");
            }
            assertTrue(!page.items().isEmpty() || all.isEmpty(), "a page after the first must not be empty");
            all.addAll(page.items());
        } while (cursor != null);
        return all;
    }
}
