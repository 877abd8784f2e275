package io.granda.core.internal.hot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures exchange latency; not a test (it asserts nothing). Run with
 * {@code mvn -pl granda-core test -Dtest=HotConnectionLatencyMeasurement -Dgranda.measure=true
 * -Dsurefire.failIfNoSpecifiedTests=false} and read {@code target/surefire-reports/*Measurement-output.txt}.
 *
 * <p>Against the in-JVM {@link FakeHotServer} and, when it can be built with gcc (or is given as
 * {@code -Dgranda.hotEcho=/path/to/hot-echo}), against {@code images/hot-echo} run on the host. Each target is
 * measured with a hand-rolled raw client too (one pre-encoded request, read until the known response length), so
 * the difference is what {@link HotConnection} itself costs.
 */
@EnabledIfSystemProperty(named = "granda.measure", matches = "true")
class HotConnectionLatencyMeasurement {

    private static final int WARMUP = 30_000;
    private static final int MEASURED = 100_000;

    @TempDir
    Path dir;

    private static final HotRequest REQUEST = new HotRequest("POST", "/orders/42?expand=items", List.of(
            new HotHeader("Content-Type", "application/json"),
            new HotHeader("Granda-Call-Id", "01m8cd1yf5q8829pa2df2fmg79"),
            new HotHeader("Granda-Deadline", "2026-11-26T17:04:43.374Z"),
            new HotHeader("Granda-Timeout-Ms", "5000"),
            new HotHeader("Granda-Function", "orders"),
            new HotHeader("Granda-Revision", "3"),
            new HotHeader("User-Agent", "curl/8.5.0"),
            new HotHeader("Accept", "*/*")), "{\"status\":\"paid\"}".getBytes(StandardCharsets.UTF_8));

    @Test
    void measure() throws Exception {
        try (FakeHotServer server = FakeHotServer.startOnPlatformThreads(dir, FakeHotServer.echo())) {
            measureAgainst("fake server (Java, in-JVM)", server.socket());
        }
        Path hotEcho = hotEchoBinary();
        if (hotEcho == null) {
            System.out.println("hot-echo: not available (no -Dgranda.hotEcho and no gcc or source)");
        } else {
            Path socketDir = Files.createDirectories(dir.resolve("he"));
            Path socket = socketDir.resolve("fn.sock");
            ProcessBuilder builder = new ProcessBuilder(hotEcho.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("hot-echo.log").toFile());
            builder.environment().put("GRANDA_SOCKET", socket.toString());
            Process process = builder.start();
            try {
                awaitSocket(socket);
                measureAgainst("hot-echo (C, on the host)", socket);
            } finally {
                process.destroyForcibly().waitFor();
            }
        }
        measureWatchdogCost();
    }

    private void measureAgainst(String target, Path socket) throws Exception {
        System.out.println("== " + target + ", request " + REQUEST.body().length + " B body, "
                + REQUEST.headers().size() + " headers; " + MEASURED + " sequential exchanges after " + WARMUP
                + " warm-up");
        report("raw client, platform thread", rawLatencies(socket));
        report("HotConnection, platform thread", exchangeLatencies(socket));
        report("raw client, virtual thread", onVirtualThread(() -> rawLatencies(socket)));
        report("HotConnection, virtual thread", onVirtualThread(() -> exchangeLatencies(socket)));
        System.out.printf(Locale.ROOT, "  allocated per exchange: %d bytes%n", allocatedPerExchange(socket));
        for (int threads : new int[] {1, 8, 64}) {
            System.out.printf(Locale.ROOT, "  throughput, %d virtual threads, own connection each: %,.0f exchanges/s%n",
                    threads, throughput(socket, threads, Duration.ofSeconds(3)));
        }
    }

    private static long[] onVirtualThread(Callable<long[]> measurement) throws Exception {
        long[][] result = new long[1][];
        Thread virtual = Thread.ofVirtual().start(() -> {
            try {
                result[0] = measurement.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        virtual.join();
        return result[0];
    }

    private static long[] exchangeLatencies(Path socket) throws Exception {
        try (HotConnection connection = HotConnection.open(socket)) {
            long[] latencies = new long[MEASURED];
            for (int i = 0; i < WARMUP + MEASURED; i++) {
                long started = System.nanoTime();
                HotResponse response = connection.exchange(REQUEST, started + TimeUnit.SECONDS.toNanos(5), 6 << 20);
                long took = System.nanoTime() - started;
                if (response.body().length != REQUEST.body().length) {
                    throw new IllegalStateException("wrong echo: " + response);
                }
                if (i >= WARMUP) {
                    latencies[i - WARMUP] = took;
                }
            }
            return latencies;
        }
    }

    /**
     * The floor: the same request bytes on the same kind of socket, and a response taken as complete when it ends
     * with the echoed body (both servers put the body last), so no parsing at all.
     */
    private static long[] rawLatencies(Path socket) throws Exception {
        byte[] requestBytes;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            CapturingChannel capture = new CapturingChannel(channel);
            new HotRequestWriter().write(capture, REQUEST);
            requestBytes = capture.written();
        }
        byte[] tail = REQUEST.body();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.allocateDirect(requestBytes.length).put(requestBytes);
            byte[] in = new byte[64 * 1024];
            ByteBuffer inView = ByteBuffer.wrap(in);
            long[] latencies = new long[MEASURED];
            for (int i = 0; i < WARMUP + MEASURED; i++) {
                long started = System.nanoTime();
                out.flip();
                while (out.hasRemaining()) {
                    channel.write(out);
                }
                out.limit(out.capacity());
                inView.clear();
                do {
                    if (channel.read(inView) < 0) {
                        throw new IOException("closed");
                    }
                } while (!endsWith(in, inView.position(), tail));
                long took = System.nanoTime() - started;
                if (i >= WARMUP) {
                    latencies[i - WARMUP] = took;
                }
            }
            return latencies;
        }
    }

    private static boolean endsWith(byte[] bytes, int length, byte[] tail) {
        return length >= tail.length && Arrays.equals(bytes, length - tail.length, length, tail, 0, tail.length);
    }

    private static long allocatedPerExchange(Path socket) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (HotConnection connection = HotConnection.open(socket)) {
            for (int i = 0; i < WARMUP; i++) {
                connection.exchange(REQUEST, System.nanoTime() + TimeUnit.SECONDS.toNanos(5), 6 << 20);
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            int n = 10_000;
            for (int i = 0; i < n; i++) {
                connection.exchange(REQUEST, System.nanoTime() + TimeUnit.SECONDS.toNanos(5), 6 << 20);
            }
            return (threads.getCurrentThreadAllocatedBytes() - before) / n;
        }
    }

    private static double throughput(Path socket, int threads, Duration duration) throws Exception {
        LongAdder done = new LongAdder();
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            callers.add(Thread.ofVirtual().start(() -> {
                try (HotConnection connection = HotConnection.open(socket)) {
                    while (!stop.get()) {
                        connection.exchange(REQUEST, System.nanoTime() + TimeUnit.SECONDS.toNanos(5), 6 << 20);
                        if (measuring.get()) {
                            done.increment();
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        Thread.sleep(1000);
        measuring.set(true);
        long started = System.nanoTime();
        Thread.sleep(duration.toMillis());
        measuring.set(false);
        long took = System.nanoTime() - started;
        stop.set(true);
        for (Thread caller : callers) {
            caller.join();
        }
        return done.sum() * 1e9 / took;
    }

    /**
     * Arm and disarm of the watchdog against a scheduled-executor schedule and cancel, one thread, with a 40 us
     * park between calls as a blocking read would make (so the executor's timer thread is parked, as it would be).
     * Only the bookkeeping calls are timed.
     */
    private static void measureWatchdogCost() throws Exception {
        HotWatchdog watchdog = new HotWatchdog("measure-watchdog");
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
        executor.setRemoveOnCancelPolicy(true);
        try {
            HotWatchdog.Watch watch = watchdog.watch(() -> { });
            int n = 20_000;
            for (int round = 0; round < 3; round++) {
                long watchdogNanos = 0;
                long executorNanos = 0;
                for (int i = 0; i < n; i++) {
                    long started = System.nanoTime();
                    watch.arm(started + TimeUnit.SECONDS.toNanos(5));
                    long armed = System.nanoTime();
                    LockSupport.parkNanos(40_000);
                    long resumed = System.nanoTime();
                    watch.disarm();
                    watchdogNanos += (armed - started) + (System.nanoTime() - resumed);
                }
                for (int i = 0; i < n; i++) {
                    long started = System.nanoTime();
                    ScheduledFuture<?> task = executor.schedule(() -> { }, 5, TimeUnit.SECONDS);
                    long scheduled = System.nanoTime();
                    LockSupport.parkNanos(40_000);
                    long resumed = System.nanoTime();
                    task.cancel(false);
                    executorNanos += (scheduled - started) + (System.nanoTime() - resumed);
                }
                System.out.printf(Locale.ROOT, "== deadline bookkeeping per exchange, round %d: watchdog arm+disarm %.0f ns,"
                        + " ScheduledThreadPoolExecutor schedule+cancel %.0f ns%n", round,
                        (double) watchdogNanos / n, (double) executorNanos / n);
            }
        } finally {
            watchdog.stop();
            executor.shutdownNow();
        }
    }

    private static void report(String what, long[] latencies) {
        long[] sorted = latencies.clone();
        Arrays.sort(sorted);
        double mean = Arrays.stream(sorted).average().orElse(0);
        System.out.printf(Locale.ROOT, "  %-32s median %6.1f us  p90 %6.1f us  p99 %6.1f us  p99.9 %7.1f us  mean %6.1f us%n",
                what, micros(sorted, 0.50), micros(sorted, 0.90), micros(sorted, 0.99), micros(sorted, 0.999),
                mean / 1000);
    }

    private static double micros(long[] sorted, double quantile) {
        return sorted[(int) Math.min(sorted.length - 1, Math.round(quantile * (sorted.length - 1)))] / 1000.0;
    }

    private static void awaitSocket(Path socket) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (HotConnection ignored = HotConnection.open(socket)) {
                return;
            } catch (HotConnectionException notYet) {
                Thread.sleep(10);
            }
        }
        throw new IllegalStateException("hot-echo did not listen on " + socket);
    }

    /** The binary from -Dgranda.hotEcho, or images/hot-echo compiled with gcc, or null. */
    private Path hotEchoBinary() throws Exception {
        String given = System.getProperty("granda.hotEcho");
        if (given != null && !given.isBlank()) {
            return Path.of(given);
        }
        Path source = Path.of("..", "images", "hot-echo", "hot-echo.c").toAbsolutePath().normalize();
        if (!Files.exists(source)) {
            return null;
        }
        Path binary = dir.resolve("hot-echo");
        try {
            Process gcc = new ProcessBuilder("gcc", "-std=c11", "-static", "-O2", "-pthread", "-o", binary.toString(),
                    source.toString()).redirectErrorStream(true).start();
            String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (gcc.waitFor() != 0) {
                System.out.println("hot-echo: gcc failed: " + output);
                return null;
            }
            return binary;
        } catch (IOException noGcc) {
            return null;
        }
    }

    /** A channel that keeps what is written to it instead of sending it, to learn the request's exact bytes. */
    private static final class CapturingChannel implements WritableByteChannel {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final SocketChannel delegate;

        CapturingChannel(SocketChannel delegate) {
            this.delegate = delegate;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            ByteBuffer copy = src.duplicate();
            byte[] chunk = new byte[copy.remaining()];
            copy.get(chunk);
            bytes.write(chunk);
            return delegate.write(src);
        }

        byte[] written() {
            return bytes.toByteArray();
        }

        @Override
        public boolean isOpen() {
            return delegate.isOpen();
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }
}
