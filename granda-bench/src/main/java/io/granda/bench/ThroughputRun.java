package io.granda.bench;

import com.sun.management.OperatingSystemMXBean;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A closed-loop load: {@code callers} threads, each with its own keep-alive connection, call back to back for a
 * warm-up and then a measured window; a call counts when it starts and ends inside the window. Also keeps every
 * counted call's latency.
 *
 * @param callers  how many callers
 * @param calls    calls that ended in the window
 * @param errors   calls that failed or answered wrongly, in any phase
 * @param seconds  the window's length as measured
 * @param latency  the counted calls' latencies
 * @param cpuNanos CPU time (user + system) of this whole JVM during the window: callers, server and metering alike,
 *                 but not the function containers. Unlike calls per second it hardly moves when other work shares
 *                 the machine, so it shows what a change costs even on a busy machine.
 */
record ThroughputRun(int callers, long calls, long errors, double seconds, Samples latency, long cpuNanos) {

    private enum Phase { WARMUP, MEASURE, STOP }

    /** @return calls per second in the window */
    double callsPerSecond() {
        return calls / seconds;
    }

    /** @return this JVM's CPU time per counted call, in microseconds */
    double cpuMicrosPerCall() {
        return calls == 0 ? Double.NaN : cpuNanos / 1000.0 / calls;
    }

    /** CPU time so far of every live platform thread, by thread group name (digits and hex ids folded). */
    static java.util.Map<String, Long> cpuByThreadGroup() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        java.util.Map<String, Long> byGroup = new java.util.TreeMap<>();
        for (long id : mx.getAllThreadIds()) {
            java.lang.management.ThreadInfo info = mx.getThreadInfo(id);
            long cpu = mx.getThreadCpuTime(id);
            if (info == null || cpu < 0) {
                continue;
            }
            String group = info.getThreadName().replaceAll("0x[0-9a-f]+", "X").replaceAll("[0-9]+", "N");
            byGroup.merge(group, cpu, Long::sum);
        }
        return byGroup;
    }

    /** @return per thread group, the CPU microseconds per call it used between two snapshots, largest first */
    static String cpuPerCall(java.util.Map<String, Long> before, java.util.Map<String, Long> after, long calls) {
        StringBuilder s = new StringBuilder();
        after.entrySet().stream()
                .map(e -> java.util.Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(8)
                .forEach(e -> s.append(String.format(java.util.Locale.ROOT, "%s %.1f; ", e.getKey(),
                        e.getValue() / 1000.0 / Math.max(1, calls))));
        return s.toString();
    }

    private static long processCpuNanos() {
        return ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class).getProcessCpuTime();
    }

    /**
     * Runs the load.
     *
     * @param callers       how many threads
     * @param clients       makes one (unconnected) client per thread
     * @param expectedBody  what every answer's body must be
     * @param warmupMillis  how long to call before counting
     * @param measureMillis how long to count
     */
    static ThroughputRun run(int callers, Supplier<MiniHttpClient> clients, byte[] expectedBody, long warmupMillis,
                             long measureMillis) throws InterruptedException {
        var phase = new Object() {
            volatile Phase now = Phase.WARMUP;
        };
        CountDownLatch ready = new CountDownLatch(callers);
        CountDownLatch go = new CountDownLatch(1);
        long[] counted = new long[callers];
        long[] failed = new long[callers];
        Samples[] latencies = new Samples[callers];
        List<Thread> threads = new ArrayList<>(callers);
        for (int t = 0; t < callers; t++) {
            int me = t;
            latencies[me] = new Samples((int) Math.min(1 << 20, 20_000 * measureMillis / 1000 / callers + 1024));
            threads.add(Thread.ofPlatform().name("bench-caller-" + t).start(() -> {
                MiniHttpClient client = clients.get();
                Samples mine = latencies[me];
                long n = 0;
                long errors = 0;
                try {
                    client.connect();
                } catch (IOException e) {
                    errors++;
                }
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                Phase p;
                while ((p = phase.now) != Phase.STOP) {
                    long t0 = System.nanoTime();
                    boolean ok;
                    try {
                        ok = client.call() == 200 && client.bodyEquals(expectedBody);
                    } catch (IOException e) {
                        ok = false;
                        client.close();
                    }
                    long took = System.nanoTime() - t0;
                    if (!ok) {
                        errors++;
                    } else if (p == Phase.MEASURE && phase.now == Phase.MEASURE) {
                        n++;
                        mine.add(took);
                    }
                }
                client.close();
                counted[me] = n;
                failed[me] = errors;
            }));
        }
        ready.await();
        go.countDown();
        TimeUnit.MILLISECONDS.sleep(warmupMillis);
        phase.now = Phase.MEASURE;
        long t0 = System.nanoTime();
        long cpu0 = processCpuNanos();
        java.util.Map<String, Long> threads0 = Boolean.getBoolean("granda.bench.threadCpu") ? cpuByThreadGroup() : null;
        TimeUnit.MILLISECONDS.sleep(measureMillis);
        phase.now = Phase.STOP;
        long t1 = System.nanoTime();
        long cpu1 = processCpuNanos();
        java.util.Map<String, Long> threads1 = threads0 == null ? null : cpuByThreadGroup();
        for (Thread t : threads) {
            t.join();
        }
        long calls = 0;
        long errors = 0;
        Samples all = new Samples(1024);
        for (int t = 0; t < callers; t++) {
            calls += counted[t];
            errors += failed[t];
            all.addAll(latencies[t]);
        }
        if (threads0 != null) {
            System.err.println("[bench]   CPU us per call by thread group: " + cpuPerCall(threads0, threads1, calls));
        }
        return new ThroughputRun(callers, calls, errors, (t1 - t0) / 1e9, all, cpu1 - cpu0);
    }
}
