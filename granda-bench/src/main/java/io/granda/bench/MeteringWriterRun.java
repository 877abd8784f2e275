package io.granda.bench;

import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.internal.InvocationRecorder;
import io.granda.store.SqliteStore;
import io.granda.store.SqliteStoreConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many invocation records per second the metering writer sustains into SQLite: records are handed to the same
 * {@link InvocationRecorder} the platform uses (production capacity and batch size), from many threads at once, on a
 * real database file with the production settings (WAL, synchronous=NORMAL, one writer), and the clock runs until the
 * last one is stored. Each record also updates its per-minute aggregate, as in production.
 */
public record MeteringWriterRun(int threads, int records, double seconds, long stored) {

    /** @return records stored per second */
    public double recordsPerSecond() {
        return stored / seconds;
    }

    /**
     * @param dir     where the scratch database goes
     * @param threads producing threads
     * @param records records in all
     * @return the run's figures
     */
    static MeteringWriterRun run(Path dir, int threads, int records) throws Exception {
        Path db = Files.createTempFile(dir, "metering-", ".db");
        Files.delete(db);
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(db), Clock.systemUTC())) {
            AtomicLong stored = new AtomicLong();
            InvocationRecorder recorder = new InvocationRecorder(store.metering(), 100_000, 1_000,
                    batch -> stored.addAndGet(batch.size()));
            List<List<InvocationRecord>> perThread = new ArrayList<>();
            Instant t0 = Instant.now();
            for (int t = 0; t < threads; t++) {
                List<InvocationRecord> mine = new ArrayList<>(records / threads + 1);
                for (int i = t; i < records; i += threads) {
                    mine.add(record(t0, i));
                }
                perThread.add(mine);
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> producers = new ArrayList<>();
            for (List<InvocationRecord> mine : perThread) {
                producers.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    mine.forEach(recorder::record);
                }));
            }
            long start = System.nanoTime();
            go.countDown();
            for (Thread p : producers) {
                p.join();
            }
            if (!recorder.flush(Duration.ofMinutes(5))) {
                throw new IllegalStateException("the writer did not store " + records + " records in 5 minutes");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            recorder.close(Duration.ofSeconds(10));
            return new MeteringWriterRun(threads, records, seconds, stored.get());
        } finally {
            for (String suffix : List.of("", "-wal", "-shm")) {
                Files.deleteIfExists(Path.of(db + suffix));
            }
        }
    }

    /** A realistic record: time-ordered 26-character id, 50 functions, a few cold and failed calls. */
    private static InvocationRecord record(Instant t0, long n) {
        Instant start = t0.plusNanos(n * 250_000L);
        long runMicros = 200 + n % 5_000;
        InvocationRecord.PhaseMicros phases = n % 100 == 0
                ? new InvocationRecord.PhaseMicros(0, 0, 150_000, 9_000, runMicros)
                : InvocationRecord.PhaseMicros.runOnly(runMicros);
        return new InvocationRecord(String.format("01bench%019d", n), InvocationRecord.DEFAULT_TENANT,
                "fn-" + (n % 50), "function-" + (n % 50), 1, start, start.plusNanos(runMicros * 1000 + 90_000),
                phases, 128, n % 3 == 0 ? -1 : runMicros / 2, n % 97 == 0 ? Outcome.FUNCTION_ERROR : Outcome.SUCCESS,
                n % 97 == 0 ? 1 : 0, n % 100 == 0, 64, 128);
    }
}
