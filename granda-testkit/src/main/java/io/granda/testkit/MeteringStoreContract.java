package io.granda.testkit;

import io.granda.core.Billing;
import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.core.spi.MeteringStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compatibility suite every {@link MeteringStore} must pass. An implementation's test extends this class and
 * supplies a fresh, empty store per test from {@link #createStore(FakeClock)}; every documented behaviour of the SPI
 * is checked here, so two stores that pass it bill identically.
 *
 * <p>Record times carry microseconds: a store must keep instants to the microsecond at least. Records are listed
 * and exported in the order of {@link #ORDER}: by start, then by invocation id (by code point), whatever order they
 * were appended in. A store that is {@link AutoCloseable} is closed after each test.
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

    /**
     * The order the SPI lists and exports records in, oldest first: by start, then by invocation id compared by
     * Unicode code point (as SQLite compares text, by its UTF-8 bytes). Listing is the reverse.
     */
    protected static final Comparator<InvocationRecord> ORDER = Comparator.comparing(InvocationRecord::start)
            .thenComparing(InvocationRecord::invocationId, MeteringStoreContract::compareCodePoints);

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

        assertEquals(batch, store.append(batch));

        for (InvocationRecord r : batch) {
            assertEquals(Optional.of(r), store.find(r.invocationId()));
        }
    }

    @Test
    void appendOfAnEmptyBatchStoresNothing() {
        assertEquals(List.of(), store.append(List.of()));
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

        assertEquals(batch, store.append(batch));
        assertEquals(List.of(), store.append(batch));

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

        assertEquals(List.of(a, b, c), store.append(List.of(a, b, c)));
        assertEquals(List.of(d, e), store.append(List.of(b, c, d, e)));
        assertEquals(List.of(), store.append(List.of(e, a)));

        assertEquals(List.of(e, d, c, b, a), allInvocations("fn-1", 2));
        assertEquals(5, store.usage("fn-1", T0, T0.plusSeconds(1)).calls());
    }

    @Test
    void aDuplicateInsideOneBatchIsStoredOnce() {
        InvocationRecord a = record("a", "fn-1", T0);
        InvocationRecord b = record("b", "fn-1", T0.plusMillis(1));

        assertEquals(List.of(a, b), store.append(List.of(a, b, a)));

        assertEquals(List.of(b, a), allInvocations("fn-1", 10));
    }

    @Test
    void aRecordWithAStoredIdIsIgnoredEvenWhenItDiffers() {
        InvocationRecord first = record("same-id", "fn-1", T0);
        InvocationRecord retried = withRun(record("same-id", "fn-1", T0.plusSeconds(5)), 999_999);

        assertEquals(List.of(first), store.append(List.of(first)));
        assertEquals(List.of(), store.append(List.of(retried)));

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

        assertEquals(records, store.append(records));

        for (InvocationRecord r : records) {
            assertEquals(Optional.of(r), store.find(r.invocationId()));
        }
        // Listed by start, not as given: the record before 1970 comes last, the one in 2999 first.
        assertEquals(records.stream().sorted(ORDER.reversed()).toList(), allInvocations("fn-rt", 3));
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
    void recordsThatStartedTogetherAreListedByIdAcrossPages() {
        // Eleven calls in one microsecond, given in no order, and one before and one after them: pages of three
        // end inside the run of equal starts, and must neither repeat nor skip one of them.
        Instant same = T0.plusMillis(5);
        List<InvocationRecord> together = new ArrayList<>();
        for (String id : List.of("k", "c", "i", "a", "g", "e", "j", "b", "h", "d", "f")) {
            together.add(record("tie-" + id, "fn-1", same));
        }
        InvocationRecord before = record("zzz-before", "fn-1", same.minusNanos(1_000));
        InvocationRecord after = record("000-after", "fn-1", same.plusNanos(1_000));
        store.append(together.subList(0, 6));
        store.append(List.of(after, before));
        store.append(together.subList(6, 11));

        List<InvocationRecord> expected = new ArrayList<>();
        expected.add(after);
        expected.addAll(together.stream().sorted(ORDER.reversed()).toList());
        expected.add(before);
        assertEquals("tie-k", expected.get(1).invocationId());
        assertEquals(expected, allInvocations("fn-1", 3));
        assertEquals(expected, allInvocations("fn-1", 1));
    }

    @Test
    void aRecordStoredLateIsListedWhereItsStartPutsIt() {
        List<InvocationRecord> records = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            records.add(record("r" + i, "fn-1", T0.plusSeconds(i)));
        }
        store.append(records);
        Page<InvocationRecord> first = store.invocations("fn-1", 3, null);
        assertEquals(List.of(records.get(5), records.get(4), records.get(3)), first.items());

        // A batch that arrives late: one call older than the cursor, one newer.
        InvocationRecord lateOld = record("late-old", "fn-1", T0.plusMillis(500));
        InvocationRecord lateNew = record("late-new", "fn-1", T0.plusSeconds(10));
        store.append(List.of(lateOld, lateNew));
        List<InvocationRecord> rest = new ArrayList<>();
        String cursor = first.nextCursor();
        while (cursor != null) {
            Page<InvocationRecord> page = store.invocations("fn-1", 3, cursor);
            rest.addAll(page.items());
            cursor = page.nextCursor();
        }

        assertEquals(List.of(records.get(2), records.get(1), lateOld, records.get(0)), rest);
        assertEquals(lateNew, store.invocations("fn-1", 1, null).items().getFirst());
    }

    @Test
    void aCursorStaysValidWhenItsRecordIsPurged() {
        List<InvocationRecord> records = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            records.add(record("r" + i, "fn-1", T0.plusSeconds(i)));
        }
        store.append(records);
        Page<InvocationRecord> first = store.invocations("fn-1", 4, null);
        assertEquals(records.get(2), first.items().getLast());

        // Purges records r0..r2, the last one handed out among them.
        assertEquals(3, store.purgeRecordsBefore(T0.plusSeconds(3)));
        Page<InvocationRecord> second = store.invocations("fn-1", 4, first.nextCursor());

        assertEquals(List.of(), second.items());
        assertNull(second.nextCursor());
        assertEquals(List.of(records.get(5), records.get(4), records.get(3)), allInvocations("fn-1", 2));
    }

    @Test
    void aCursorNotMadeByTheStoreIsRefused() {
        store.append(List.of(record("a", "fn-1", T0), record("b", "fn-1", T0.plusMillis(1))));

        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "not-a-cursor"));
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "-1"));
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "%%%"));
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "12345"));
        assertThrows(IllegalArgumentException.class, () -> store.invocations("fn-1", 1, "a cursor with spaces"));
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
                128 * 1 + 256 * 1 + 512 * 2 + 1024 * 4500,
                900), fn);

        UsageSummary all = store.usage(null, s, s.plusSeconds(60));
        assertEquals(new UsageSummary(5, 1, 1, 1, 3,
                1 + 10 + 2000 + 5 + 1000,
                1 + 1 + 2 + 4500 + 1,
                128 * 1 + 256 * 1 + 512 * 2 + 1024 * 4500 + 64 * 1,
                900), all);
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
        long calls = 0, errors = 0, timeouts = 0, oom = 0, cold = 0, compute = 0, billed = 0, mbMillis = 0, cpu = 0;
        Outcome[] outcomes = Outcome.values();
        for (int i = 0; i < 500; i++) {
            Instant start = T0.plusMillis(i * 7L).plusNanos((i % 1000) * 1_000L);
            long runMicros = (i * 7919L) % 3_000_000;
            Outcome outcome = outcomes[i % outcomes.length];
            // Every fifth call's CPU time could not be read (-1): it must add nothing, not subtract one.
            long cpuMicros = i % 5 == 0 ? -1 : (i * 104_729L) % 2_000_000;
            InvocationRecord r = new InvocationRecord("m" + i, "t", "fn-m", "m", 1, start,
                    start.plusNanos(runMicros * 1_000 + (i % 3) * 333_000), new InvocationRecord.PhaseMicros(0, 0, 0, 0, runMicros), 128 + (i % 8) * 128,
                    cpuMicros, outcome, 0, i % 3 == 0, 0, 0);
            batch.add(r);
            calls++;
            errors += outcome == Outcome.FUNCTION_ERROR ? 1 : 0;
            timeouts += outcome == Outcome.TIMEOUT ? 1 : 0;
            oom += outcome == Outcome.OUT_OF_MEMORY ? 1 : 0;
            cold += r.cold() ? 1 : 0;
            compute += r.durationMillis();
            billed += r.billedMillis();
            mbMillis += Billing.mbMillis(r.memoryMb(), r.billedMillis());
            cpu += Math.max(0, cpuMicros);
        }
        store.append(batch);
        store.append(batch.subList(100, 200)); // a retried part must not count twice

        UsageSummary expected = new UsageSummary(calls, errors, timeouts, oom, cold, compute, billed, mbMillis, cpu);
        assertEquals(expected, store.usage("fn-m", T0, T0.plusSeconds(3600)));
        assertEquals(expected, UsageSummary.sum(store.usageSeries(
                new RecordFilter(null, "fn-m", T0, T0.plusSeconds(3600)), Granularity.HOUR)),
                "the aggregates agree with the records to the last digit");
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
        List<String> added = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<InvocationRecord> own = slices.get(t);
                List<InvocationRecord> neighbour = slices.get((t + 1) % threads);
                futures.add(pool.submit(() -> {
                    go.await();
                    List<String> mine = new ArrayList<>();
                    for (int from = 0; from < perThread; from += batchSize) {
                        // Each batch carries its own records, a record repeated inside it, and records that
                        // belong to the neighbouring thread, which may or may not have stored them yet.
                        List<InvocationRecord> batch = new ArrayList<>(own.subList(from, from + batchSize));
                        batch.add(own.get(from));
                        batch.addAll(neighbour.subList(from, from + 5));
                        store.append(batch).forEach(r -> mine.add(r.invocationId()));
                        // A whole retry: nothing new.
                        store.append(own.subList(from, from + batchSize)).forEach(r -> mine.add(r.invocationId()));
                    }
                    return mine;
                }));
            }
            go.countDown();
            for (Future<List<String>> f : futures) {
                added.addAll(f.get());
            }
        }

        long total = (long) threads * perThread;
        assertEquals(total, added.size(), "the records append returned must add up to the distinct records");
        assertEquals(total, new HashSet<>(added).size(), "no record is returned as new by two appends");
        assertEquals(total, store.usage("fn-c", T0, T0.plusSeconds(3600)).calls());
        assertEquals(total, UsageSummary.sum(store.usageSeries(RecordFilter.all(T0, T0.plusSeconds(3600)),
                Granularity.MINUTE)).calls(), "the aggregates count every record once");
        List<InvocationRecord> listed = allInvocations("fn-c", 333);
        assertEquals(total, listed.size());
        Set<String> ids = new HashSet<>();
        listed.forEach(r -> ids.add(r.invocationId()));
        assertEquals(total, ids.size());
    }

    // ---- append tells which records were new ----

    @Test
    void appendReturnsTheNewRecordsInTheOrderGivenWhateverTheirStart() {
        InvocationRecord late = record("late", "fn-1", T0.plusSeconds(10));
        InvocationRecord early = record("early", "fn-1", T0);
        InvocationRecord middle = record("middle", "fn-2", T0.plusSeconds(5));
        InvocationRecord older = record("older", "fn-2", T0.minusSeconds(5));

        assertEquals(List.of(late, early, middle), store.append(List.of(late, early, middle)));
        assertEquals(List.of(older), store.append(List.of(middle, older, late)));
        assertEquals(List.of(), store.append(List.of(older, early)));
    }

    @Test
    void aDuplicateInsideOneBatchCountsOnlyItsFirstOccurrence() {
        InvocationRecord first = record("dup", "fn-1", T0);
        InvocationRecord other = record("other", "fn-1", T0.plusMillis(1));
        // Same id, but another minute and another run time: if it were counted, a second bucket would appear.
        InvocationRecord again = withRun(record("dup", "fn-1", T0.plusSeconds(90)), 5_000_000);

        assertEquals(List.of(first, other), store.append(List.of(first, other, again)));

        assertEquals(Optional.of(first), store.find("dup"));
        assertEquals(List.of(new UsageBucket(minute("10:15"), UsageSummary.of(first).plus(UsageSummary.of(other)))),
                store.usageSeries(RecordFilter.all(T0.minusSeconds(3600), T0.plusSeconds(3600)), Granularity.MINUTE));
    }

    // ---- usage series ----

    @Test
    void aSeriesHasOneUtcAlignedBucketPerMinuteHourOrDayWithCalls() {
        List<InvocationRecord> calls = edgeCalls();
        store.append(calls);
        RecordFilter twoDays = RecordFilter.all(Instant.parse("2026-03-01T00:00:00Z"),
                Instant.parse("2026-03-03T00:00:00Z"));

        List<UsageBucket> minutes = store.usageSeries(twoDays, Granularity.MINUTE);
        assertEquals(List.of(minute("10:15"), minute("10:16"), minute("10:59"), minute("11:00"), minute("23:59"),
                Instant.parse("2026-03-02T00:00:00Z")), starts(minutes));
        assertEquals(List.of(2L, 1L, 1L, 1L, 1L, 1L), callsOf(minutes));

        List<UsageBucket> hours = store.usageSeries(twoDays, Granularity.HOUR);
        assertEquals(List.of(minute("10:00"), minute("11:00"), minute("23:00"),
                Instant.parse("2026-03-02T00:00:00Z")), starts(hours));
        assertEquals(List.of(4L, 1L, 1L, 1L), callsOf(hours));

        List<UsageBucket> days = store.usageSeries(twoDays, Granularity.DAY);
        assertEquals(List.of(Instant.parse("2026-03-01T00:00:00Z"), Instant.parse("2026-03-02T00:00:00Z")),
                starts(days));
        assertEquals(List.of(6L, 1L), callsOf(days));

        // Every field of every bucket, against a model built from the records themselves.
        for (Granularity g : Granularity.values()) {
            assertEquals(expectedSeries(calls, g), store.usageSeries(twoDays, g), g.toString());
        }
    }

    @Test
    void aSeriesWidensItsWindowToWholeBuckets() {
        List<InvocationRecord> calls = edgeCalls();
        store.append(calls);
        Duration oneMicro = Duration.ofNanos(1_000);

        // since inside 10:15 brings the whole minute (10:15:30 too); until a microsecond into 10:16 brings 10:16.
        List<UsageBucket> widened = store.usageSeries(RecordFilter.all(minute("10:15").plusSeconds(45),
                minute("10:16").plus(oneMicro)), Granularity.MINUTE);
        assertEquals(List.of(minute("10:15"), minute("10:16")), starts(widened));
        assertEquals(List.of(2L, 1L), callsOf(widened));

        // An until on a bucket's start is not widened: 10:16 stays out.
        assertEquals(List.of(new UsageBucket(minute("10:15"), sum(calls.subList(0, 2)))),
                store.usageSeries(RecordFilter.all(minute("10:15").plusSeconds(45), minute("10:16")),
                        Granularity.MINUTE));

        // One microsecond of window inside an hour or a day brings all of it.
        assertEquals(List.of(new UsageBucket(minute("10:00"), sum(calls.subList(0, 4)))),
                store.usageSeries(RecordFilter.all(minute("10:30"), minute("10:30").plus(oneMicro)),
                        Granularity.HOUR));
        assertEquals(List.of(new UsageBucket(minute("00:00"), sum(calls.subList(0, 6)))),
                store.usageSeries(RecordFilter.all(minute("12:00"), minute("12:00").plus(oneMicro)),
                        Granularity.DAY));

        // Buckets without calls are left out; a window of only such buckets is empty.
        assertEquals(List.of(), store.usageSeries(RecordFilter.all(minute("10:20"), minute("10:21")),
                Granularity.MINUTE));
        assertEquals(List.of(), store.usageSeries(RecordFilter.all(minute("12:00"), minute("13:00")),
                Granularity.HOUR));
    }

    @Test
    void bucketsBeforeTheEpochStartAtTheirUtcMinuteHourAndDay() {
        InvocationRecord lastMicro = record("pre-1", "fn-1", Instant.parse("1969-12-31T23:59:59.999999Z"));
        InvocationRecord earlier = record("pre-2", "fn-1", Instant.parse("1969-12-31T23:00:30Z"));
        InvocationRecord epoch = record("epoch", "fn-1", Instant.EPOCH);
        store.append(List.of(lastMicro, earlier, epoch));
        RecordFilter around = RecordFilter.all(Instant.parse("1969-12-31T00:00:00Z"),
                Instant.parse("1970-01-02T00:00:00Z"));

        assertEquals(List.of(Instant.parse("1969-12-31T23:00:00Z"), Instant.parse("1969-12-31T23:59:00Z"),
                Instant.EPOCH), starts(store.usageSeries(around, Granularity.MINUTE)));
        assertEquals(List.of(Instant.parse("1969-12-31T23:00:00Z"), Instant.EPOCH),
                starts(store.usageSeries(around, Granularity.HOUR)));
        List<UsageBucket> days = store.usageSeries(around, Granularity.DAY);
        assertEquals(List.of(Instant.parse("1969-12-31T00:00:00Z"), Instant.EPOCH), starts(days));
        assertEquals(List.of(2L, 1L), callsOf(days));
    }

    @Test
    void aSeriesCoversOnlyTheTenantAndFunctionAsked() {
        List<InvocationRecord> calls = tenantCalls();
        store.append(calls);
        Instant since = T0.minusSeconds(3600);
        Instant until = T0.plusSeconds(3600);

        for (RecordFilter f : List.of(RecordFilter.all(since, until),
                new RecordFilter("acme", null, since, until),
                new RecordFilter("globex", null, since, until),
                new RecordFilter(null, "fn-c", since, until),
                new RecordFilter("acme", "fn-a", since, until))) {
            List<InvocationRecord> covered = calls.stream().filter(f::matches).toList();
            assertFalse(covered.isEmpty());
            for (Granularity g : Granularity.values()) {
                assertEquals(expectedSeries(covered, g), store.usageSeries(f, g), f + " " + g);
            }
        }
        assertEquals(List.of(), store.usageSeries(new RecordFilter("globex", "fn-a", since, until),
                Granularity.MINUTE), "fn-a is not globex's");
        assertEquals(List.of(), store.usageSeries(new RecordFilter("nobody", null, since, until),
                Granularity.HOUR));
        assertEquals(List.of(), store.usageSeries(new RecordFilter(null, "fn-none", since, until),
                Granularity.DAY));
    }

    @Test
    void aSeriesSummedEqualsUsageOverMinuteAlignedWindows() {
        List<InvocationRecord> calls = new ArrayList<>();
        Outcome[] outcomes = Outcome.values();
        Instant base = minute("10:00");
        for (int i = 0; i < 800; i++) {
            // Roughly three hours of calls, some exactly on a minute's start, some in its last microsecond.
            Instant start = base.plusMillis(i * 13_537L).plusNanos(i % 3 == 0 ? 0 : (i % 3 == 1 ? 999_999_000L : 1_000));
            calls.add(call("s" + i, i % 5 == 0 ? "globex" : "acme", "fn-" + (i % 4), "name-" + (i % 4), start,
                    (i * 7919L) % 2_500_000, 128 << (i % 4), i % 6 == 0 ? -1 : i * 31L, outcomes[i % outcomes.length],
                    i % 7 == 0));
        }
        for (int from = 0; from < calls.size(); from += 100) {
            store.append(calls.subList(from, from + 100));
        }
        store.append(calls.subList(250, 350)); // a retry must change nothing

        List<Instant[]> minuteWindows = List.of(
                new Instant[] {minute("10:15"), minute("10:16")},
                new Instant[] {minute("10:47"), minute("12:03")},
                new Instant[] {minute("09:00"), minute("14:00")},
                new Instant[] {minute("11:30"), minute("11:30")});
        for (Instant[] w : minuteWindows) {
            for (String fn : new String[] {null, "fn-0", "fn-3"}) {
                RecordFilter f = new RecordFilter(null, fn, w[0], w[1]);
                assertEquals(store.usage(fn, w[0], w[1]), UsageSummary.sum(store.usageSeries(f, Granularity.MINUTE)),
                        fn + " " + w[0] + ".." + w[1]);
            }
        }
        for (String fn : new String[] {null, "fn-1"}) {
            assertEquals(store.usage(fn, minute("10:00"), minute("12:00")), UsageSummary.sum(store.usageSeries(
                    new RecordFilter(null, fn, minute("10:00"), minute("12:00")), Granularity.HOUR)));
            assertEquals(store.usage(fn, minute("00:00"), minute("00:00").plus(Duration.ofDays(1))),
                    UsageSummary.sum(store.usageSeries(new RecordFilter(null, fn, minute("00:00"),
                            minute("00:00").plus(Duration.ofDays(1))), Granularity.DAY)));
        }
        assertEquals(sum(calls), store.usage(null, minute("00:00"), minute("00:00").plus(Duration.ofDays(1))));
    }

    @Test
    void aWindowOpenAtBothEndsCoversEverything() {
        List<InvocationRecord> calls = new ArrayList<>(edgeCalls());
        calls.add(record("pre-epoch", "fn-e", Instant.parse("1969-12-31T23:59:59.999999Z")));
        calls.add(record("far-future", "fn-e", Instant.parse("2999-12-31T23:59:59.999999Z")));
        store.append(calls);
        RecordFilter open = RecordFilter.all(Instant.MIN, Instant.MAX);

        for (Granularity g : Granularity.values()) {
            assertEquals(expectedSeries(calls, g), store.usageSeries(open, g), g.toString());
        }
        assertEquals(List.of(new FunctionUsage(InvocationRecord.DEFAULT_TENANT, "fn-e", "fn", sum(calls))),
                store.usageByFunction(open));
        assertEquals(calls.size(), store.exportRecords(open, r -> { }));
        assertEquals(sum(calls), store.usage(null, Instant.MIN, Instant.MAX));
    }

    @Test
    void usageOfAWindowThatEndsBeforeItStartsIsEmpty() {
        store.append(List.of(record("a", "fn-1", T0)));

        assertEquals(UsageSummary.EMPTY, store.usage("fn-1", T0.plusSeconds(1), T0.minusSeconds(1)));
        assertEquals(UsageSummary.EMPTY, store.usage(null, T0.plusSeconds(1), T0.minusSeconds(1)));
    }

    // ---- usage by function ----

    @Test
    void usageByFunctionTotalsEachFunctionUnderItsLatestName() {
        InvocationRecord zetaOld = call("z1", "acme", "fn-1", "zeta-old", T0, 1_000, 128, 10, Outcome.SUCCESS, true);
        InvocationRecord zeta = call("z2", "acme", "fn-1", "zeta", minute("10:16").plusSeconds(10), 2_000, 128, -1,
                Outcome.FUNCTION_ERROR, false);
        InvocationRecord alpha = call("a1", "acme", "fn-2", "alpha", minute("10:15").plusSeconds(40), 3_000, 256, 5,
                Outcome.SUCCESS, false);
        // Within one minute the latest call names it, whatever the order the calls were stored in.
        InvocationRecord betaNew = call("b1", "globex", "fn-3", "beta-new", minute("10:17").plusSeconds(50), 4_000,
                512, 7, Outcome.TIMEOUT, true);
        InvocationRecord betaOld = call("b2", "globex", "fn-3", "beta-old", minute("10:17").plusSeconds(5), 5_000,
                512, 7, Outcome.SUCCESS, false);
        InvocationRecord betaMid = call("b3", "globex", "fn-3", "beta-mid", minute("10:17").plusSeconds(20), 6_000,
                512, 7, Outcome.SUCCESS, false);
        // And when the later call comes first in one batch.
        InvocationRecord deltaNew = call("d1", "acme", "fn-5", "delta-new", minute("10:17").plusSeconds(40), 700,
                128, -1, Outcome.SUCCESS, false);
        InvocationRecord deltaOld = call("d2", "acme", "fn-5", "delta-old", minute("10:17").plusSeconds(10), 800,
                128, -1, Outcome.SUCCESS, false);
        InvocationRecord outside = call("o1", "acme", "fn-4", "outside", minute("12:00"), 100, 128, -1,
                Outcome.SUCCESS, false);
        store.append(List.of(betaNew, zeta, outside, deltaNew, deltaOld));
        store.append(List.of(zetaOld, betaMid, betaOld, alpha));
        // since at 10:15:45 is widened to 10:15, which brings zeta-old's and alpha's calls in.
        RecordFilter window = RecordFilter.all(minute("10:15").plusSeconds(45), minute("10:18"));

        // By tenant, then name: acme's alpha before acme's zeta (though fn-1 < fn-2), then globex.
        assertEquals(List.of(
                new FunctionUsage("acme", "fn-2", "alpha", UsageSummary.of(alpha)),
                new FunctionUsage("acme", "fn-5", "delta-new", sum(List.of(deltaNew, deltaOld))),
                new FunctionUsage("acme", "fn-1", "zeta", sum(List.of(zetaOld, zeta))),
                new FunctionUsage("globex", "fn-3", "beta-new", sum(List.of(betaNew, betaOld, betaMid)))),
                store.usageByFunction(window));
        assertEquals(List.of(
                new FunctionUsage("acme", "fn-2", "alpha", UsageSummary.of(alpha)),
                new FunctionUsage("acme", "fn-5", "delta-new", sum(List.of(deltaNew, deltaOld))),
                new FunctionUsage("acme", "fn-1", "zeta", sum(List.of(zetaOld, zeta)))),
                store.usageByFunction(new RecordFilter("acme", null, window.since(), window.until())));
        assertEquals(List.of(new FunctionUsage("globex", "fn-3", "beta-new", sum(List.of(betaNew, betaOld, betaMid)))),
                store.usageByFunction(new RecordFilter(null, "fn-3", window.since(), window.until())));
        // Before the rename, the function is listed under the name its calls then had.
        assertEquals(List.of(
                new FunctionUsage("acme", "fn-2", "alpha", UsageSummary.of(alpha)),
                new FunctionUsage("acme", "fn-1", "zeta-old", UsageSummary.of(zetaOld))),
                store.usageByFunction(RecordFilter.all(minute("10:15"), minute("10:16"))));
        assertEquals(List.of(), store.usageByFunction(new RecordFilter("globex", "fn-1", window.since(),
                window.until())));
        assertEquals(List.of(), store.usageByFunction(RecordFilter.all(minute("11:00"), minute("11:59"))));
    }

    @Test
    void cpuTimeIsSummedOnlyOverCallsWhoseCpuTimeWasRead() {
        Instant m = minute("10:20");
        store.append(List.of(
                call("c1", "acme", "fn-cpu", "cpu", m.plusSeconds(1), 1_000, 128, -1, Outcome.SUCCESS, false),
                call("c2", "acme", "fn-cpu", "cpu", m.plusSeconds(2), 1_000, 128, 0, Outcome.SUCCESS, false),
                call("c3", "acme", "fn-cpu", "cpu", m.plusSeconds(3), 1_000, 128, 250, Outcome.SUCCESS, false),
                call("c4", "acme", "fn-cpu", "cpu", m.plusSeconds(4), 1_000, 128, 1_000_000, Outcome.SUCCESS, false),
                call("c5", "acme", "fn-cpu", "cpu", m.plusSeconds(5), 1_000, 128, -1, Outcome.SUCCESS, false),
                call("c6", "acme", "fn-other", "other", m.plusSeconds(6), 1_000, 128, 7, Outcome.SUCCESS, false)));
        RecordFilter window = new RecordFilter(null, "fn-cpu", m, m.plusSeconds(60));

        assertEquals(1_000_250, store.usage("fn-cpu", m, m.plusSeconds(60)).cpuMicros());
        assertEquals(1_000_257, store.usage(null, m, m.plusSeconds(60)).cpuMicros());
        assertEquals(5, store.usage("fn-cpu", m, m.plusSeconds(60)).calls());
        List<UsageBucket> series = store.usageSeries(window, Granularity.MINUTE);
        assertEquals(1, series.size());
        assertEquals(1_000_250, series.getFirst().usage().cpuMicros());
        assertEquals(List.of(1_000_250L, 7L), store.usageByFunction(RecordFilter.all(m, m.plusSeconds(60))).stream()
                .map(u -> u.usage().cpuMicros()).toList());
    }

    // ---- export ----

    @Test
    void exportPassesRecordsOldestStartFirstAndSameStartsById() {
        InvocationRecord third = record("r3", "fn-1", T0.plusMillis(3));
        InvocationRecord first = record("r1", "fn-1", T0.plusMillis(1));
        // The same start: "tie-b" is stored before "tie-a", but "tie-a" comes first, by its id.
        InvocationRecord tieB = record("tie-b", "fn-2", T0.plusMillis(2));
        InvocationRecord tieA = record("tie-a", "fn-1", T0.plusMillis(2));
        InvocationRecord zeroth = record("r0", "fn-2", T0);
        store.append(List.of(third, first));
        store.append(List.of(tieB, zeroth, tieA));

        List<InvocationRecord> passed = new ArrayList<>();
        long n = store.exportRecords(RecordFilter.all(T0, T0.plusSeconds(1)), passed::add);

        assertEquals(List.of(zeroth, first, tieA, tieB, third), passed);
        assertEquals(5, n);
    }

    @Test
    void idsAreOrderedByCodePointAsUtf8BytesOrderThem() {
        // U+FF21 (fullwidth A) is one UTF-16 unit above the surrogates that make U+1F600; by code point, and so
        // in UTF-8 bytes, it is below U+1F600. String.compareTo would put them the other way round.
        InvocationRecord fullwidth = record("id-\uFF21", "fn-1", T0);
        InvocationRecord emoji = record("id-\uD83D\uDE00", "fn-1", T0);
        InvocationRecord plain = record("id-z", "fn-1", T0);
        store.append(List.of(emoji, plain, fullwidth));

        List<InvocationRecord> passed = new ArrayList<>();
        store.exportRecords(RecordFilter.all(T0, T0.plusSeconds(1)), passed::add);

        assertEquals(List.of(plain, fullwidth, emoji), passed);
        assertEquals(List.of(emoji, fullwidth, plain), allInvocations("fn-1", 1));
    }

    @Test
    void exportCoversExactlyTheFilterToTheMicrosecond() {
        List<InvocationRecord> calls = new ArrayList<>(tenantCalls());
        Instant since = T0;
        Instant until = T0.plusSeconds(120);
        Duration oneMicro = Duration.ofNanos(1_000);
        // Unlike series, export is not widened: the window is exact.
        calls.add(call("x-before", "acme", "fn-a", "alpha", since.minus(oneMicro), 10, 128, -1, Outcome.SUCCESS,
                false));
        calls.add(call("x-last", "acme", "fn-a", "alpha", until.minus(oneMicro), 10, 128, -1, Outcome.SUCCESS,
                false));
        calls.add(call("x-at-until", "acme", "fn-a", "alpha", until, 10, 128, -1, Outcome.SUCCESS, false));
        store.append(calls);

        for (RecordFilter f : List.of(RecordFilter.all(since, until),
                new RecordFilter("acme", null, since, until),
                new RecordFilter(null, "fn-c", since, until),
                new RecordFilter("acme", "fn-a", since, until),
                new RecordFilter("globex", "fn-a", since, until),
                new RecordFilter(null, null, until, until))) {
            List<InvocationRecord> expected = calls.stream().filter(f::matches).sorted(ORDER).toList();
            List<InvocationRecord> passed = new ArrayList<>();
            assertEquals(expected.size(), store.exportRecords(f, passed::add), f.toString());
            assertEquals(expected, passed, f.toString());
        }
        List<String> acme = new ArrayList<>();
        store.exportRecords(new RecordFilter("acme", "fn-a", since, until), r -> acme.add(r.invocationId()));
        assertTrue(acme.contains("x-last") && !acme.contains("x-before") && !acme.contains("x-at-until"),
                acme.toString());
    }

    @Test
    void exportStreamsManyRecordsInOrderAcrossEqualStarts() {
        // More records than a store would read at once, seven to a start, stored in shuffled batches, so that any
        // paging a store does falls inside runs of equal starts. The ids are a permutation (7919 is prime to
        // 3003), so their order is not that of the starts.
        List<InvocationRecord> stored = new ArrayList<>();
        for (int i = 0; i < 3_003; i++) {
            stored.add(record(String.format("e-%05d", (i * 7_919) % 3_003), "fn-" + (i % 3),
                    T0.plusNanos((i / 7) * 1_000L)));
        }
        Collections.shuffle(stored, new Random(42));
        for (int from = 0; from < stored.size(); from += 250) {
            store.append(stored.subList(from, Math.min(stored.size(), from + 250)));
        }
        List<InvocationRecord> expected = stored.stream().sorted(ORDER).toList();

        List<InvocationRecord> passed = new ArrayList<>();
        long n = store.exportRecords(RecordFilter.all(T0, T0.plusSeconds(1)), passed::add);

        assertEquals(expected.size(), n);
        // Ids first, for a readable failure; then every field.
        assertEquals(expected.stream().map(InvocationRecord::invocationId).toList(),
                passed.stream().map(InvocationRecord::invocationId).toList());
        assertEquals(expected, passed);
        List<InvocationRecord> oneFunction = new ArrayList<>();
        store.exportRecords(new RecordFilter(null, "fn-1", T0, T0.plusSeconds(1)), oneFunction::add);
        assertEquals(expected.stream().filter(r -> r.functionId().equals("fn-1")).map(InvocationRecord::invocationId)
                .toList(), oneFunction.stream().map(InvocationRecord::invocationId).toList());
    }

    // ---- retention ----

    @Test
    void purgingRecordsKeepsTheirAggregates() {
        List<InvocationRecord> calls = edgeCalls();
        store.append(calls);
        RecordFilter twoDays = RecordFilter.all(minute("00:00"), minute("00:00").plus(Duration.ofDays(2)));
        Map<Granularity, List<UsageBucket>> before = new LinkedHashMap<>();
        for (Granularity g : Granularity.values()) {
            before.put(g, store.usageSeries(twoDays, g));
        }
        List<FunctionUsage> byFunctionBefore = store.usageByFunction(twoDays);
        // The cutoff is edge call 5's start: it stays; call 4, a microsecond earlier, goes.
        Instant cutoff = calls.get(4).start();

        assertEquals(4, store.purgeRecordsBefore(cutoff));

        for (InvocationRecord r : calls.subList(0, 4)) {
            assertEquals(Optional.empty(), store.find(r.invocationId()), r.invocationId());
        }
        for (InvocationRecord r : calls.subList(4, 7)) {
            assertEquals(Optional.of(r), store.find(r.invocationId()), r.invocationId());
        }
        for (Granularity g : Granularity.values()) {
            assertEquals(before.get(g), store.usageSeries(twoDays, g), "aggregates outlive the records: " + g);
        }
        assertEquals(byFunctionBefore, store.usageByFunction(twoDays));
        assertEquals(sum(calls.subList(4, 7)), store.usage(null, twoDays.since(), twoDays.until()),
                "usage is from the records, and only the kept ones");
        List<InvocationRecord> exported = new ArrayList<>();
        store.exportRecords(twoDays, exported::add);
        assertEquals(calls.subList(4, 7), exported);
        assertEquals(calls.subList(4, 7).reversed(), allInvocations("fn-e", 2));
        assertEquals(0, store.purgeRecordsBefore(cutoff), "nothing left to purge");
    }

    @Test
    void purgingAggregatesDeletesOnlyMinutesWhollyBeforeTheCutoff() {
        List<InvocationRecord> calls = List.of(
                record("p1", "fn-1", minute("10:14").plusSeconds(10)),
                record("p2", "fn-2", minute("10:14").plusSeconds(20)),
                record("p3", "fn-1", minute("10:15").plusSeconds(30)),
                record("p4", "fn-2", minute("10:15").plusSeconds(50)),
                record("p5", "fn-1", minute("10:16")));
        store.append(calls);
        RecordFilter hour = RecordFilter.all(minute("10:00"), minute("11:00"));

        assertEquals(2, store.purgeAggregatesBefore(minute("10:15").plusSeconds(30)),
                "10:14 of both functions goes; 10:15 holds the cutoff and stays");
        assertEquals(List.of(minute("10:15"), minute("10:16")), starts(store.usageSeries(hour, Granularity.MINUTE)));
        assertEquals(0, store.purgeAggregatesBefore(minute("10:16").minusNanos(1_000)), "still inside 10:15");
        assertEquals(2, store.purgeAggregatesBefore(minute("10:16")), "10:15 ended at the cutoff");

        assertEquals(List.of(new UsageBucket(minute("10:16"), UsageSummary.of(calls.get(4)))),
                store.usageSeries(hour, Granularity.MINUTE));
        assertEquals(List.of(new FunctionUsage(InvocationRecord.DEFAULT_TENANT, "fn-1", "fn",
                UsageSummary.of(calls.get(4)))), store.usageByFunction(hour));
        // The raw records are not touched.
        assertEquals(sum(calls), store.usage(null, hour.since(), hour.until()));
        for (InvocationRecord r : calls) {
            assertEquals(Optional.of(r), store.find(r.invocationId()));
        }
        assertEquals(0, store.purgeAggregatesBefore(minute("10:16")));
    }

    @Test
    void purgingAnEmptyStoreDeletesNothing() {
        assertEquals(0, store.purgeRecordsBefore(Instant.MAX));
        assertEquals(0, store.purgeAggregatesBefore(Instant.MAX));
    }

    // ---- helpers ----

    /** Compares by Unicode code point: the order of the strings' UTF-8 bytes. */
    private static int compareCodePoints(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; ) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(i);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
        }
        return Integer.compare(a.length(), b.length());
    }

    /** @return {@code hh:mm[:ss...]} on 2026-03-01, UTC: the day {@link #T0} is in */
    protected static Instant minute(String time) {
        return Instant.parse("2026-03-01T" + (time.length() == 5 ? time + ":00" : time) + "Z");
    }

    /** @return a record with the fields usage totals depend on chosen; wall time is run time plus 0.7 ms */
    protected static InvocationRecord call(String invocationId, String tenant, String functionId, String functionName,
                                           Instant start, long runMicros, int memoryMb, long cpuMicros,
                                           Outcome outcome, boolean cold) {
        return new InvocationRecord(invocationId, tenant, functionId, functionName, 1, start,
                start.plusNanos((runMicros + 700) * 1_000), InvocationRecord.PhaseMicros.runOnly(runMicros), memoryMb,
                cpuMicros, outcome, outcome == Outcome.SUCCESS ? 0 : 1, cold, 0, 0);
    }

    /**
     * Seven calls of function {@code fn-e}, in order of start, at the edges of minutes, hours and days of
     * 2026-03-01 (UTC): 10:15:30.123456, 10:15:59.999999, 10:16, 10:59:59.999999, 11:00, 23:59:59.999999 and
     * 2026-03-02T00:00, each with other totals.
     */
    protected static List<InvocationRecord> edgeCalls() {
        String t = InvocationRecord.DEFAULT_TENANT;
        return List.of(
                call("e1", t, "fn-e", "fn", T0, 1_500, 128, -1, Outcome.SUCCESS, true),
                call("e2", t, "fn-e", "fn", minute("10:15:59.999999"), 250_000, 256, 40_000, Outcome.FUNCTION_ERROR,
                        false),
                call("e3", t, "fn-e", "fn", minute("10:16"), 999, 512, 0, Outcome.TIMEOUT, false),
                call("e4", t, "fn-e", "fn", minute("10:59:59.999999"), 3_000_001, 1024, 2_500_000,
                        Outcome.OUT_OF_MEMORY, true),
                call("e5", t, "fn-e", "fn", minute("11:00"), 10, 128, 5, Outcome.SUCCESS, false),
                call("e6", t, "fn-e", "fn", minute("23:59:59.999999"), 1_000_000, 2048, 900_000, Outcome.SUCCESS,
                        true),
                call("e7", t, "fn-e", "fn", Instant.parse("2026-03-02T00:00:00Z"), 77, 128, -1, Outcome.SUCCESS,
                        false));
    }

    /** Calls of two tenants within ten minutes of {@link #T0}: acme's fn-a and fn-b, globex's fn-c. */
    protected static List<InvocationRecord> tenantCalls() {
        return List.of(
                call("t1", "acme", "fn-a", "alpha", T0, 1_000, 128, 10, Outcome.SUCCESS, true),
                call("t2", "acme", "fn-b", "beta", T0.plusSeconds(30), 2_000, 256, -1, Outcome.FUNCTION_ERROR, false),
                call("t3", "globex", "fn-c", "gamma", T0.plusSeconds(10), 3_000, 512, 30, Outcome.SUCCESS, false),
                call("t4", "acme", "fn-a", "alpha", T0.plusSeconds(60), 4_000, 128, 40, Outcome.TIMEOUT, false),
                call("t5", "globex", "fn-c", "gamma", T0.plusSeconds(119), 5_000, 512, 50, Outcome.SUCCESS, true),
                call("t6", "acme", "fn-a", "alpha", T0.plusSeconds(600), 6_000, 128, 60, Outcome.SUCCESS, false));
    }

    /** @return the totals of the records, each as {@link UsageSummary#of} counts it */
    protected static UsageSummary sum(List<InvocationRecord> records) {
        UsageSummary total = UsageSummary.EMPTY;
        for (InvocationRecord r : records) {
            total = total.plus(UsageSummary.of(r));
        }
        return total;
    }

    /** @return the series a store must give for exactly these records: a model, independent of any store */
    protected static List<UsageBucket> expectedSeries(List<InvocationRecord> records, Granularity granularity) {
        TreeMap<Instant, UsageSummary> buckets = new TreeMap<>();
        for (InvocationRecord r : records) {
            buckets.merge(granularity.floor(r.start()), UsageSummary.of(r), UsageSummary::plus);
        }
        return buckets.entrySet().stream().map(e -> new UsageBucket(e.getKey(), e.getValue())).toList();
    }

    private static List<Instant> starts(List<UsageBucket> series) {
        return series.stream().map(UsageBucket::start).toList();
    }

    private static List<Long> callsOf(List<UsageBucket> series) {
        return series.stream().map(b -> b.usage().calls()).toList();
    }


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
