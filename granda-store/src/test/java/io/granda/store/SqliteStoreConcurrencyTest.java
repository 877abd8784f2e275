package io.granda.store;

import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.granda.store.TestData.count;
import static io.granda.store.TestData.record;
import static io.granda.store.TestData.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many threads at once on one real file: every write lands exactly once, nobody sees "database is locked", and
 * readers run beside the writer seeing only whole batches.
 */
class SqliteStoreConcurrencyTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    @Timeout(300) // guards against a hang only; no timing is asserted
    void tenThousandRecordsFromSixteenThreadsWithDuplicatesAreCountedExactly() throws Exception {
        Path db = dir.resolve("many-writers.db");
        int threads = 16;
        int total = 10_000;
        List<InvocationRecord> all = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            all.add(record(String.format("rec-%05d", i), "fn-" + (i % 7), T0.plusMillis(i)));
        }

        long added = 0;
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(db), new FakeClock(T0))) {
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService pool = Executors.newFixedThreadPool(threads + 2)) {
                List<Future<Long>> writers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    writers.add(pool.submit(() -> {
                        go.await();
                        Random random = new Random(thread);
                        long mine = 0;
                        // Thread t owns records t, t+16, t+32, ...: 625 of them, sent in batches of 50.
                        List<InvocationRecord> own = new ArrayList<>();
                        for (int i = thread; i < total; i += threads) {
                            own.add(all.get(i));
                        }
                        for (int from = 0; from < own.size(); from += 50) {
                            List<InvocationRecord> batch = new ArrayList<>(own.subList(from, Math.min(from + 50, own.size())));
                            // Deliberate duplicates: some of this batch again, and records of other threads,
                            // stored already or about to be.
                            batch.add(batch.getFirst());
                            for (int d = 0; d < 10; d++) {
                                batch.add(all.get(random.nextInt(total)));
                            }
                            mine += store.metering().append(batch).size();
                        }
                        return mine;
                    }));
                }
                // Registry writes share the one writer with metering: they must not collide with it either.
                Future<Long> registry = pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < 50; i++) {
                        store.functions().create(spec("concurrent-" + i));
                        store.functions().update(spec("concurrent-" + i), 1);
                    }
                    return 0L;
                });
                go.countDown();
                for (Future<Long> w : writers) {
                    added += w.get(); // any "database is locked" would surface here as an ExecutionException
                }
                registry.get();
            }

            assertEquals(total, added, "the counts append returned must add up to the distinct records");
            assertEquals(total, store.metering().usage(null, T0, T0.plusSeconds(3600)).calls());
            assertEquals(50, store.functions().list().size());
        }
        assertEquals(total, count(db, "SELECT COUNT(*) FROM invocations"));
        assertEquals(total, count(db, "SELECT COUNT(DISTINCT invocation_id) FROM invocations"));
        assertEquals(total, count(db, "SELECT SUM(calls) FROM usage_minutes"), "every record in one aggregate, once");
    }

    @Test
    @Timeout(300) // guards against a hang only; no timing is asserted
    void readersRunBesideTheWriterAndSeeOnlyWholeCommittedBatches() throws Exception {
        Path db = dir.resolve("readers.db");
        int writerThreads = 4;
        int batchesPerWriter = 25;
        int batchSize = 100;
        // More readers than reader connections, so some wait for a connection.
        int readerThreads = 8;
        SqliteStoreConfig config = SqliteStoreConfig.defaults(db).withReaderConnections(4);
        try (SqliteStore store = SqliteStore.open(config, new FakeClock(T0))) {
            AtomicBoolean writing = new AtomicBoolean(true);
            CountDownLatch go = new CountDownLatch(1);
            // Writers are virtual threads, queueing on the store's lock. Readers are platform threads: they read in
            // a loop that never blocks, and a virtual thread that never blocks never yields its carrier, which on a
            // 2-core machine would starve the writers.
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
                 ExecutorService readerPool = Executors.newFixedThreadPool(readerThreads)) {
                List<Future<Integer>> writers = new ArrayList<>();
                for (int w = 0; w < writerThreads; w++) {
                    int writer = w;
                    writers.add(pool.submit(() -> {
                        go.await();
                        int batches = 0;
                        for (int b = 0; b < batchesPerWriter; b++) {
                            List<InvocationRecord> batch = new ArrayList<>();
                            for (int i = 0; i < batchSize; i++) {
                                batch.add(record("w" + writer + "-b" + b + "-" + i, "fn-read",
                                        T0.plusMillis(b * batchSize + i)));
                            }
                            assertEquals(batch, store.metering().append(batch));
                            // Read-your-writes: a committed batch is visible to any reader at once.
                            String last = batch.getLast().invocationId();
                            assertTrue(store.metering().find(last).isPresent(), last + " not visible after commit");
                            batches++;
                        }
                        return batches;
                    }));
                }
                List<Future<Integer>> readers = new ArrayList<>();
                for (int r = 0; r < readerThreads; r++) {
                    readers.add(readerPool.submit(() -> {
                        go.await();
                        long seen = 0;
                        int reads = 0;
                        while (writing.get() || reads == 0) {
                            long calls = store.metering().usage("fn-read", T0, T0.plusSeconds(3600)).calls();
                            // A batch is one transaction: a reader sees all of it or none of it.
                            assertEquals(0, calls % batchSize, "saw part of a batch: " + calls);
                            assertTrue(calls >= seen, "count went backwards: " + seen + " -> " + calls);
                            seen = calls;
                            Page<InvocationRecord> page = store.metering().invocations("fn-read", 50, null);
                            assertTrue(page.items().size() <= 50);
                            reads++;
                        }
                        return reads;
                    }));
                }
                go.countDown();
                int batches = 0;
                try {
                    for (Future<Integer> w : writers) {
                        batches += w.get();
                    }
                } finally {
                    // Also when a writer failed: the readers must stop, or closing the executor waits for ever.
                    writing.set(false);
                }
                int reads = 0;
                for (Future<Integer> r : readers) {
                    reads += r.get();
                }
                assertEquals(writerThreads * batchesPerWriter, batches);
                assertTrue(reads >= readerThreads);
            }
            assertEquals((long) writerThreads * batchesPerWriter * batchSize,
                    store.metering().usage("fn-read", T0, T0.plusSeconds(3600)).calls());
        }
    }
}
