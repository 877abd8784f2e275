package io.granda.store;

import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Measures, without asserting any timing, how many invocation records per second {@code append} stores in batches
 * of 1000 on a real file. Skipped unless asked for:
 * {@code mvn -pl granda-store test -Dtest=SqliteAppendThroughputMeasurement -Dgranda.measure=true}; the figures are
 * printed to {@code target/surefire-reports/io.granda.store.SqliteAppendThroughputMeasurement-output.txt}.
 */
@EnabledIfSystemProperty(named = "granda.measure", matches = "true")
class SqliteAppendThroughputMeasurement {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final int BATCH = 1000;
    private static final int BATCHES = 300;

    @TempDir
    Path dir;

    @Test
    void oneThreadNormalSync() {
        measure("1 thread, synchronous=NORMAL", SqliteStoreConfig.defaults(dir.resolve("normal.db")), 1);
    }

    @Test
    void oneThreadFullSync() {
        measure("1 thread, synchronous=FULL", SqliteStoreConfig.defaults(dir.resolve("full.db"))
                .withSyncEveryCommit(true), 1);
    }

    @Test
    void sixteenThreadsNormalSync() {
        measure("16 threads, synchronous=NORMAL", SqliteStoreConfig.defaults(dir.resolve("sixteen.db")), 16);
    }

    private static void measure(String label, SqliteStoreConfig config, int threads) {
        List<List<InvocationRecord>> batches = new ArrayList<>();
        for (int b = 0; b < BATCHES + 20; b++) {
            List<InvocationRecord> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
                long n = (long) b * BATCH + i;
                Instant start = T0.plusNanos(n * 1_337_000L);
                // Realistic ids (26-char, time-ordered) and values, spread over 50 functions.
                batch.add(new InvocationRecord(String.format("01jx%022d", n), InvocationRecord.DEFAULT_TENANT,
                        "01jfunction" + (n % 50), "function-" + (n % 50), 1 + n % 3, start,
                        start.plusNanos(12_345_000L), new InvocationRecord.PhaseMicros(10, 0, 0, n % 10 == 0 ? 150_000 : 0, 11_000 + n % 5000), 128, -1,
                        n % 20 == 0 ? Outcome.FUNCTION_ERROR : Outcome.SUCCESS, 0, n % 10 == 0, 64, 256));
            }
            batches.add(batch);
        }
        try (SqliteStore store = SqliteStore.open(config, new FakeClock(T0))) {
            // Warm-up: JIT, SQLite page cache, the file's first growth.
            for (List<InvocationRecord> b : batches.subList(0, 20)) {
                store.metering().append(b);
            }
            List<List<InvocationRecord>> timed = batches.subList(20, batches.size());
            long t0 = System.nanoTime();
            long added = 0;
            try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
                List<Future<Integer>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        int mine = 0;
                        for (int b = thread; b < timed.size(); b += threads) {
                            mine += store.metering().append(timed.get(b)).size();
                        }
                        return mine;
                    }));
                }
                for (Future<Integer> f : futures) {
                    added += f.get();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            long nanos = System.nanoTime() - t0;
            assertEquals((long) BATCHES * BATCH, added);
            System.out.printf("append throughput, %s: %,d records in %,d batches of %d in %.3f s = %,.0f records/s"
                            + " (%.2f ms per batch)%n", label, added, BATCHES, BATCH, nanos / 1e9,
                    added / (nanos / 1e9), nanos / 1e6 / BATCHES);
        }
    }
}
