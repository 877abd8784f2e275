package io.granda.store;

import io.granda.core.InvocationRecord;
import io.granda.core.internal.InvocationRecorder;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static io.granda.store.TestData.count;
import static io.granda.store.TestData.jdbc;
import static io.granda.store.TestData.record;
import static io.granda.store.TestData.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The recorder as production runs it (queue of 100,000, batches of 1,000) in front of the real SQLite store: every
 * record lands exactly once, in its aggregate too, and close() writes out everything handed in before it.
 */
class SqliteRecorderBatchingTest {

    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    private static final int CAPACITY = 100_000;
    private static final int BATCH = 1_000;
    private static final int THREADS = 16;
    /** A bound on waits that end at once when all is well; reaching it fails the test, it measures nothing. */
    private static final Duration GENEROUS = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    @Timeout(300) // guards against a hang only; no timing is asserted
    void tenThousandRecordsFromSixteenThreadsWithDuplicatesAreStoredExactlyOnce() throws Exception {
        Path db = dir.resolve("recorder.db");
        int total = 10_000;
        List<InvocationRecord> all = new ArrayList<>(total);
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < total; i++) {
            // Spread over 7 functions and about 17 minutes, so that many aggregate rows are shared by batches.
            InvocationRecord r = record(String.format("rec-%05d", i), "fn-" + (i % 7), T0.plusMillis(i * 101L));
            all.add(r);
            ids.add(r.invocationId());
        }
        Set<String> told = ConcurrentHashMap.newKeySet();
        AtomicInteger toldTwice = new AtomicInteger();
        AtomicInteger largestTold = new AtomicInteger();
        AtomicInteger handedIn = new AtomicInteger();

        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(db), new FakeClock(T0))) {
            InvocationRecorder recorder = new InvocationRecorder(store.metering(), CAPACITY, BATCH, stored -> {
                largestTold.accumulateAndGet(stored.size(), Math::max);
                for (InvocationRecord r : stored) {
                    if (!told.add(r.invocationId())) {
                        toldTwice.incrementAndGet();
                    }
                }
            });
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
                List<Future<?>> callers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    callers.add(pool.submit(() -> {
                        go.await();
                        Random random = new Random(thread);
                        // Thread t owns records t, t+16, ...; after each it may record again one of its own, or
                        // one of another thread's that may or may not be stored yet.
                        for (int i = thread; i < total; i += THREADS) {
                            recorder.record(all.get(i));
                            handedIn.incrementAndGet();
                            if (random.nextInt(10) == 0) {
                                recorder.record(all.get(i));
                                handedIn.incrementAndGet();
                            }
                            if (random.nextInt(20) == 0) {
                                recorder.record(all.get(random.nextInt(total)));
                                handedIn.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : callers) {
                    f.get();
                }
            }
            assertTrue(handedIn.get() > total + 500, "duplicates were recorded: " + handedIn.get());

            assertTrue(recorder.close(GENEROUS), "close() stored everything");

            assertEquals(total, store.metering().usage(null, T0, T0.plusSeconds(3600)).calls());
        }

        assertEquals(total, count(db, "SELECT COUNT(*) FROM invocations"));
        assertEquals(ids, new HashSet<>(strings(db, "SELECT invocation_id FROM invocations")));
        assertEquals(total, count(db, "SELECT SUM(calls) FROM usage_minutes"),
                "every record is in its aggregate exactly once");
        assertEquals(0, count(db, """
                SELECT COUNT(*) FROM (
                    SELECT u.calls, (SELECT COUNT(*) FROM invocations i
                                      WHERE i.function_id = u.function_id
                                        AND i.start_us >= u.minute_us AND i.start_us < u.minute_us + 60000000) AS n
                    FROM usage_minutes u) WHERE calls <> n"""), "each minute's aggregate counts its own records");
        assertEquals(ids, told, "onStored was told of every record");
        assertEquals(0, toldTwice.get(), "and of none twice");
        assertTrue(largestTold.get() <= BATCH, "no append above the batch size: " + largestTold.get());
    }

    @Test
    @Timeout(300) // guards against a hang only; no timing is asserted
    void recordsHandedInRightBeforeCloseAreAllWrittenToTheFile() throws Exception {
        Path db = dir.resolve("closing.db");
        int total = 5_000;
        List<InvocationRecord> all = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            all.add(record(String.format("late-%05d", i), "fn-" + (i % 3), T0.plusMillis(i)));
        }
        SqliteStoreConfig config = SqliteStoreConfig.defaults(db).withBusyTimeout(GENEROUS);

        try (SqliteStore store = SqliteStore.open(config, new FakeClock(T0));
             Connection otherProcess = jdbc(db)) {
            InvocationRecorder recorder = new InvocationRecorder(store.metering(), CAPACITY, BATCH);
            // Another connection holds the file's write lock, so the recorder's first append waits in SQLite and
            // every record below is still queued when close() is called.
            Statement lockHolder = otherProcess.createStatement();
            lockHolder.execute("BEGIN IMMEDIATE");
            try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
                List<Future<?>> callers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    callers.add(pool.submit(() -> {
                        for (int i = thread; i < total; i += THREADS) {
                            recorder.record(all.get(i));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : callers) {
                    f.get();
                }
            }
            assertEquals(total, recorder.pending(), "nothing could be stored while the file was locked");

            // Release the lock only once close() is waiting for the writer (the closing thread then sleeps in
            // Thread.join with a timeout), so that close() is what writes the queue out.
            Thread closing = Thread.currentThread();
            Thread releaser = Thread.ofPlatform().start(() -> {
                while (closing.getState() != Thread.State.TIMED_WAITING) {
                    Thread.onSpinWait();
                }
                try {
                    lockHolder.execute("ROLLBACK");
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            boolean drained = recorder.close(GENEROUS);
            releaser.join();

            assertTrue(drained, "close() stored every record handed in before it");
            assertEquals(0, recorder.pending());
        }

        // A new store on the same file: what is there is what reached the disk.
        try (SqliteStore reopened = SqliteStore.open(config, new FakeClock(T0))) {
            assertEquals(total, reopened.metering().usage(null, T0, T0.plusSeconds(3600)).calls());
            for (InvocationRecord r : all) {
                assertEquals(r, reopened.metering().find(r.invocationId()).orElseThrow());
            }
        }
        assertEquals(total, count(db, "SELECT COUNT(*) FROM invocations"));
        assertEquals(total, count(db, "SELECT SUM(calls) FROM usage_minutes"));
    }
}
