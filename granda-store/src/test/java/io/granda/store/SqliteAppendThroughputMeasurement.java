package io.granda.store;

import io.granda.core.Ids;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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
 * of 1000 on a real file, and what one record's append costs in CPU time. Skipped unless asked for:
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

    /**
     * CPU time per record of the thread that appends, which is the store's single writer: what metering costs the
     * machine, free of the noise of wall time (disk, scheduling). 300,000 records with real ids
     * ({@link Ids#newTimeOrderedId}) over 50 functions, in batches of 500 as the recorder sends them under load.
     */
    @Test
    void cpuTimePerRecordOverFiftyFunctions() {
        measureCpu(50, dir.resolve("cpu-50.db"));
    }

    /** The same, all records of one function, as in {@code ./granda bench metering}. */
    @Test
    void cpuTimePerRecordOfOneFunction() {
        measureCpu(1, dir.resolve("cpu-1.db"));
    }

    private static void measureCpu(int functions, Path file) {
        int batchSize = Integer.getInteger("granda.measure.batch", 500);
        int records = 300_000;
        int warmUp = 40;
        List<List<InvocationRecord>> batches = new ArrayList<>();
        for (int b = 0; b < records / batchSize + warmUp; b++) {
            List<InvocationRecord> batch = new ArrayList<>(batchSize);
            for (int i = 0; i < batchSize; i++) {
                long n = (long) b * batchSize + i;
                // 4,200 calls a second: every record's start is a microsecond of its own.
                Instant start = T0.plusNanos(n * 237_000L);
                long fn = n % functions;
                batch.add(new InvocationRecord(Ids.newTimeOrderedId(start), InvocationRecord.DEFAULT_TENANT,
                        String.format("01jfunction%015d", fn), "function-" + fn, 1 + n % 3, start,
                        start.plusNanos(12_345_000L),
                        new InvocationRecord.PhaseMicros(10, 0, 0, n % 10 == 0 ? 150_000 : 0, 11_000 + n % 5000),
                        128, 9_000 + n % 3000, n % 20 == 0 ? Outcome.FUNCTION_ERROR : Outcome.SUCCESS, 0,
                        n % 10 == 0, 64, 256));
            }
            batches.add(batch);
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(file), new FakeClock(T0))) {
            for (List<InvocationRecord> b : batches.subList(0, warmUp)) {
                store.metering().append(b);
            }
            long cpu0 = threads.getCurrentThreadCpuTime();
            long user0 = threads.getCurrentThreadUserTime();
            long wall0 = System.nanoTime();
            long added = 0;
            for (List<InvocationRecord> b : batches.subList(warmUp, batches.size())) {
                added += store.metering().append(b).size();
            }
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            long user = threads.getCurrentThreadUserTime() - user0;
            long wall = System.nanoTime() - wall0;
            assertEquals(records, added);
            System.out.printf("append CPU time, 1 thread, synchronous=NORMAL, batches of %d over %d function%s: "
                            + "%,d records, %.2f us CPU per record (%.2f user, %.2f system), %.2f us wall per "
                            + "record%n", batchSize, functions, functions == 1 ? "" : "s", added, cpu / 1e3 / added,
                    user / 1e3 / added, (cpu - user) / 1e3 / added, wall / 1e3 / added);
        }
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
