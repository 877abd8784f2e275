package io.granda.core.internal;

import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InvocationRecorderTest {

    /** A bound on waits that should end at once; reaching it fails the test, it measures nothing. */
    private static final Duration GENEROUS = Duration.ofSeconds(30);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final AtomicInteger SEQ = new AtomicInteger();

    private final List<CountingMeteringStore> stores = new ArrayList<>();
    private final List<InvocationRecorder> recorders = new ArrayList<>();

    private CountingMeteringStore store() {
        CountingMeteringStore s = new CountingMeteringStore();
        stores.add(s);
        return s;
    }

    private InvocationRecorder recorder(CountingMeteringStore store, int capacity, int batch) {
        InvocationRecorder r = new InvocationRecorder(store, capacity, batch);
        recorders.add(r);
        return r;
    }

    private InvocationRecorder recorder(CountingMeteringStore store, int capacity, int batch,
                                        java.util.function.Consumer<List<InvocationRecord>> onStored) {
        InvocationRecorder r = new InvocationRecorder(store, capacity, batch, onStored);
        recorders.add(r);
        return r;
    }

    @AfterEach
    void release() {
        stores.forEach(CountingMeteringStore::open);
        recorders.forEach(r -> r.close(GENEROUS));
    }

    private static InvocationRecord rec() {
        String id = "inv-" + SEQ.incrementAndGet();
        return new InvocationRecord(id, InvocationRecord.DEFAULT_TENANT, "fid", "hello", 1, T0, T0.plusMillis(2), new InvocationRecord.PhaseMicros(0, 0, 0, 1_000, 1_500), 128, -1, Outcome.SUCCESS, 0, true, 5, 5);
    }

    /**
     * The writer lingers for fuller batches, but never at a reader's expense: a flush wakes it, and records that came
     * in while it lingered go in one transaction.
     */
    @Test
    void theWriterLingersForAFullerBatchButAFlushDoesNotWaitForIt() {
        CountingMeteringStore store = store();
        InvocationRecorder recorder = new InvocationRecorder(store, 1_000, 100, stored -> { }, Duration.ofSeconds(30));
        recorders.add(recorder);
        for (int i = 0; i < 10; i++) {
            recorder.record(rec());
        }
        long t0 = System.nanoTime();
        assertTrue(recorder.flush(Duration.ofSeconds(10)), "a flush must not wait out a 30 s linger");
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).toSeconds() < 10);
        assertEquals(10, store.storedCount());
        assertTrue(store.appendCalls() <= 2, "ten records that came while it lingered take at most two transactions, took "
                + store.appendCalls());
        // A full batch does not wait for the linger either.
        for (int i = 0; i < 100; i++) {
            recorder.record(rec());
        }
        assertTrue(recorder.flush(Duration.ofSeconds(10)));
        assertEquals(110, store.storedCount());
    }

    @Test
    void recordsFromManyThreadsAreAllStoredExactlyOnce() throws Exception {
        CountingMeteringStore store = store();
        InvocationRecorder recorder = recorder(store, 1_000, 64);
        int threads = 16;
        int perThread = 2_000;
        Set<String> sent = java.util.concurrent.ConcurrentHashMap.newKeySet();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < perThread; i++) {
                    InvocationRecord r = rec();
                    sent.add(r.invocationId());
                    recorder.record(r);
                }
            }));
        }
        go.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertTrue(recorder.flush(GENEROUS));

        assertEquals(threads * perThread, sent.size());
        Map<String, Integer> deliveries = store.deliveries();
        assertEquals(sent, deliveries.keySet());
        assertTrue(deliveries.values().stream().allMatch(n -> n == 1), "no record was sent twice");
        assertEquals(0, recorder.pending());
        assertTrue(store.attempts().stream().allMatch(b -> !b.isEmpty() && b.size() <= 64),
                "batches are never empty and never above the batch size");
    }

    @Test
    void flushWaitsUntilEverythingRecordedBeforeItIsStored() throws Exception {
        CountingMeteringStore store = store().closeGate();
        InvocationRecorder recorder = recorder(store, 100, 10);
        InvocationRecord r = rec();
        recorder.record(r);
        store.awaitFirstAppend();

        assertFalse(recorder.flush(Duration.ZERO), "the store has not answered, so nothing is stored yet");
        assertEquals(1, recorder.pending());
        assertTrue(store.find(r.invocationId()).isEmpty());

        store.open();
        assertTrue(recorder.flush(GENEROUS));
        assertTrue(store.find(r.invocationId()).isPresent(), "read-your-writes after flush");
        assertEquals(0, recorder.pending());
    }

    @Test
    void flushGivesReadYourWritesForEveryRecord() {
        CountingMeteringStore store = store();
        InvocationRecorder recorder = recorder(store, 10_000, 7);
        List<InvocationRecord> sent = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            InvocationRecord r = rec();
            sent.add(r);
            recorder.record(r);
        }
        assertTrue(recorder.flush(GENEROUS));
        for (InvocationRecord r : sent) {
            assertEquals(r, store.find(r.invocationId()).orElseThrow());
        }
    }

    @Test
    void flushWithNothingRecordedReturnsAtOnce() {
        InvocationRecorder recorder = recorder(store(), 10, 10);
        assertTrue(recorder.flush(Duration.ZERO));
    }

    @Test
    void aStoreThatFailsThenRecoversLosesNothing() {
        CountingMeteringStore store = store().closeGate().failNext(3);
        InvocationRecorder recorder = recorder(store, 1_000, 50);
        Set<String> sent = new HashSet<>();
        for (int i = 0; i < 120; i++) {
            InvocationRecord r = rec();
            sent.add(r.invocationId());
            recorder.record(r);
        }
        store.open();
        assertTrue(recorder.flush(GENEROUS));

        assertEquals(sent, store.deliveries().keySet());
        assertEquals(120, store.storedCount());
        List<List<String>> attempts = store.attempts();
        assertTrue(attempts.size() >= 4, "three refusals and at least one success: " + attempts.size());
        // A refused batch is retried whole: every id of a failed attempt is in the next attempt.
        for (int i = 0; i < 3; i++) {
            assertTrue(attempts.get(i + 1).containsAll(attempts.get(i)),
                    "attempt " + (i + 1) + " retries every record of attempt " + i);
        }
        assertTrue(store.deliveries().values().stream().allMatch(n -> n == 1),
                "a refused batch stored nothing, so every record was stored once");
    }

    @Test
    void closeDrainsTheQueue() throws Exception {
        CountingMeteringStore store = store().closeGate();
        InvocationRecorder recorder = recorder(store, 1_000, 10);
        for (int i = 0; i < 100; i++) {
            recorder.record(rec());
        }
        store.awaitFirstAppend();
        AtomicBoolean drained = new AtomicBoolean();
        Thread closer = Thread.ofPlatform().start(() -> drained.set(recorder.close(GENEROUS)));
        assertTrue(Blocked.awaitParkedOrDone(closer), "close waits for the held store");
        assertThrows(IllegalStateException.class, () -> recorder.record(rec()), "closing refuses new records");

        store.open();
        closer.join();
        assertTrue(drained.get());
        assertEquals(100, store.storedCount());
        assertEquals(0, recorder.pending());
    }

    @Test
    void closeReportsRecordsItCouldNotStoreInTime() throws Exception {
        CountingMeteringStore store = store().closeGate();
        InvocationRecorder recorder = recorder(store, 10, 10);
        recorder.record(rec());
        store.awaitFirstAppend();
        assertFalse(recorder.close(Duration.ZERO));
        assertEquals(1, recorder.pending());
        store.open();
        assertTrue(recorder.flush(GENEROUS), "the writer still stores it once the store answers");
    }

    @Test
    void recordAfterCloseIsRefused() {
        CountingMeteringStore store = store();
        InvocationRecorder recorder = recorder(store, 10, 10);
        assertTrue(recorder.close(GENEROUS));
        InvocationRecord late = rec();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> recorder.record(late));
        assertTrue(e.getMessage().contains(late.invocationId()), e.getMessage());
        assertEquals(0, store.appendCalls());
        assertTrue(recorder.close(GENEROUS), "closing twice is harmless");
    }

    @Test
    void aFullQueueMakesCallersWaitInsteadOfDropping() throws Exception {
        CountingMeteringStore store = store().closeGate();
        InvocationRecorder recorder = recorder(store, 1, 1);
        InvocationRecord first = rec();
        InvocationRecord second = rec();
        InvocationRecord third = rec();
        recorder.record(first);
        store.awaitFirstAppend();  // the writer holds 'first' at the store; the queue is empty
        recorder.record(second);   // the queue is now full

        AtomicBoolean returned = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread caller = Thread.ofPlatform().start(() -> {
            try {
                recorder.record(third);
                returned.set(true);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        assertTrue(Blocked.awaitParkedOrDone(caller), "record() waits while the queue is full");
        assertFalse(returned.get());
        assertEquals(2, recorder.pending(), "the third record is not queued, and not dropped either");

        store.open();
        caller.join();
        assertTrue(returned.get(), String.valueOf(failure.get()));
        assertTrue(recorder.flush(GENEROUS));
        assertEquals(Set.of(first.invocationId(), second.invocationId(), third.invocationId()),
                store.deliveries().keySet());
    }

    @Test
    void closeReleasesCallersWaitingOnAFullQueue() throws Exception {
        CountingMeteringStore store = store().closeGate();
        InvocationRecorder recorder = recorder(store, 1, 1);
        recorder.record(rec());
        store.awaitFirstAppend();
        recorder.record(rec());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread caller = Thread.ofPlatform().start(() -> {
            try {
                recorder.record(rec());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        assertTrue(Blocked.awaitParkedOrDone(caller));
        Thread closer = Thread.ofPlatform().start(() -> recorder.close(GENEROUS));
        caller.join();
        assertTrue(failure.get() instanceof IllegalStateException, String.valueOf(failure.get()));
        store.open();
        closer.join();
        assertEquals(2, store.storedCount());
    }

    @Test
    void aRecordTheStoreRefusesIsDroppedAloneAndTheOthersAreStored() {
        InvocationRecord bad = rec();
        List<InvocationRecord> stored = java.util.Collections.synchronizedList(new ArrayList<>());
        io.granda.core.memory.InMemoryMeteringStore memory = new io.granda.core.memory.InMemoryMeteringStore();
        io.granda.core.spi.MeteringStore refusing = new io.granda.core.spi.MeteringStore() {
            @Override
            public List<InvocationRecord> append(List<InvocationRecord> records) {
                if (records.stream().anyMatch(r -> r.invocationId().equals(bad.invocationId()))) {
                    throw new IllegalArgumentException("cannot hold this record");
                }
                stored.addAll(records);
                return memory.append(records);
            }

            @Override
            public java.util.Optional<InvocationRecord> find(String invocationId) {
                return memory.find(invocationId);
            }

            @Override
            public io.granda.core.Page<InvocationRecord> invocations(String functionId, int limit, String cursor) {
                return memory.invocations(functionId, limit, cursor);
            }

            @Override
            public io.granda.core.UsageSummary usage(String functionId, Instant since, Instant until) {
                return memory.usage(functionId, since, until);
            }

            @Override
            public List<io.granda.core.UsageBucket> usageSeries(io.granda.core.RecordFilter filter,
                                                                io.granda.core.Granularity granularity) {
                return memory.usageSeries(filter, granularity);
            }

            @Override
            public List<io.granda.core.FunctionUsage> usageByFunction(io.granda.core.RecordFilter filter) {
                return memory.usageByFunction(filter);
            }

            @Override
            public long exportRecords(io.granda.core.RecordFilter filter,
                                      java.util.function.Consumer<InvocationRecord> sink) {
                return memory.exportRecords(filter, sink);
            }

            @Override
            public long purgeRecordsBefore(Instant cutoff) {
                return memory.purgeRecordsBefore(cutoff);
            }

            @Override
            public long purgeAggregatesBefore(Instant cutoff) {
                return memory.purgeAggregatesBefore(cutoff);
            }
        };
        InvocationRecorder recorder = new InvocationRecorder(refusing, 100, 10);
        recorders.add(recorder);
        List<InvocationRecord> good = List.of(rec(), rec(), rec());
        recorder.record(good.get(0));
        recorder.record(bad);
        recorder.record(good.get(1));
        recorder.record(good.get(2));

        assertTrue(recorder.flush(GENEROUS), "the refused record does not hold up the rest");
        assertEquals(good.stream().map(InvocationRecord::invocationId).collect(java.util.stream.Collectors.toSet()),
                stored.stream().map(InvocationRecord::invocationId).collect(java.util.stream.Collectors.toSet()));
    }

    @Test
    void onStoredIsToldOfEveryNewRecordOnceAndNeverOfADuplicate() {
        CountingMeteringStore store = store();
        InvocationRecord storedBefore = rec();
        assertEquals(List.of(storedBefore), store.append(List.of(storedBefore)));
        store.closeGate().failNext(2);
        List<List<InvocationRecord>> told = java.util.Collections.synchronizedList(new ArrayList<>());
        InvocationRecorder recorder = recorder(store, 1_000, 10, told::add);

        List<InvocationRecord> fresh = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            InvocationRecord r = rec();
            fresh.add(r);
            recorder.record(r);
            if (i % 5 == 0) {
                recorder.record(r); // recorded twice: the second is a duplicate, in or across batches
            }
        }
        recorder.record(storedBefore); // already in the store: not new
        store.open();
        assertTrue(recorder.flush(GENEROUS));

        List<String> toldIds = new ArrayList<>();
        synchronized (told) {
            for (List<InvocationRecord> batch : told) {
                assertFalse(batch.isEmpty(), "onStored is not called with nothing");
                batch.forEach(r -> toldIds.add(r.invocationId()));
            }
        }
        assertEquals(fresh.stream().map(InvocationRecord::invocationId).toList(), toldIds,
                "each new record told once, in the order recorded; no duplicate, no record stored before");
        assertTrue(store.attempts().size() >= 3, "two refused batches were retried: " + store.attempts().size());
    }

    @Test
    void aThrowingOnStoredDoesNotMakeTheRecorderRetry() {
        CountingMeteringStore store = store();
        AtomicInteger calls = new AtomicInteger();
        InvocationRecorder recorder = recorder(store, 1_000, 10, stored -> {
            calls.incrementAndGet();
            throw new IllegalStateException("a broken metrics view (test)");
        });
        Set<String> sent = new HashSet<>();
        for (int i = 0; i < 35; i++) {
            InvocationRecord r = rec();
            sent.add(r.invocationId());
            recorder.record(r);
        }
        assertTrue(recorder.flush(GENEROUS));

        assertEquals(sent, store.deliveries().keySet());
        assertTrue(store.deliveries().values().stream().allMatch(n -> n == 1),
                "every record went to the store once: " + store.deliveries());
        assertEquals(35, store.attempts().stream().mapToInt(List::size).sum(), "no batch was sent again");
        assertEquals(store.appendCalls(), calls.get(), "onStored was told of every append, and each threw");

        InvocationRecord later = rec();
        recorder.record(later);
        assertTrue(recorder.flush(GENEROUS), "the recorder keeps working");
        assertTrue(store.find(later.invocationId()).isPresent());
    }
}
