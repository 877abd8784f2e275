package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.granda.core.Ids;
import io.granda.core.spi.HotInstance;
import io.granda.core.spi.InstanceSpec;
import io.granda.testkit.HotHttpResponse;
import io.granda.testkit.HotSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Measurements behind the hot-instance design, not a test: run with
 * {@code mvn -pl granda-docker test -Dtest=DockerHotStartMeasurement -Dgranda.measure=true} and read stdout
 * ({@code target/surefire-reports/io.granda.docker.DockerHotStartMeasurement-output.txt}). Timing goals live in
 * benchmarks, never in tests, so nothing here asserts.
 *
 * <ul>
 *   <li>{@link #coldStart()}: the engine's own floor for the hot echo image (docker-java create + start + socket ready
 *       + first reply, no Granda code) against {@link DockerBackend#startInstance} (+ the same first reply), and the
 *       readiness strategies (poll every 0.5 ms or 1 ms, a spin, inotify through a {@link WatchService}), interleaved
 *       round-robin so that drift of the machine's load hits every variant alike.</li>
 *   <li>{@link #pause()}: what pausing idle instances would save and cost: the CPU an idle instance burns (its
 *       cgroup's {@code cpuacct.usage} over 10 s, cgroup v1), a warm call, and unpause + first call.</li>
 * </ul>
 */
@EnabledIfSystemProperty(named = "granda.measure", matches = "true")
class DockerHotStartMeasurement {

    private static final String IMAGE = "granda-hot-echo:latest";
    private static final String OWNER = "measure-" + UUID.randomUUID().toString().substring(0, 8);
    private static final int ROUNDS = Integer.getInteger("granda.measure.rounds", 20);
    private static final int WARMUP = 3;
    private static final byte[] REQUEST = ("POST /first HTTP/1.1\r\nHost: granda\r\nContent-Length: 5\r\n\r\nhello")
            .getBytes(StandardCharsets.US_ASCII);

    private static DockerClient docker;
    private static DockerBackend backend;
    private static Path runDir;

    @BeforeAll
    static void setUp() throws IOException {
        String host = DockerBackendConfig.defaultDockerHost();
        docker = DockerClientImpl.getInstance(
                DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host).build(),
                new ApacheDockerHttpClient.Builder().dockerHost(java.net.URI.create(host)).maxConnections(100)
                        .build());
        backend = new DockerBackend(DockerBackendConfig.defaults(OWNER));
        runDir = Files.createTempDirectory("granda-measure-direct");
        System.out.println("load average at start: " + Files.readString(Path.of("/proc/loadavg")).strip());
    }

    @AfterAll
    static void tearDown() throws IOException {
        backend.close();
        docker.close();
        RunDirectory.deleteTree(runDir);
    }

    /** A readiness strategy for the direct (docker-java only) runs. */
    private enum Readiness { SPIN, POLL_500US, POLL_1MS, INOTIFY }

    @Test
    void coldStart() throws Exception {
        Map<String, List<Double>> total = new LinkedHashMap<>();
        Map<String, List<Double>> afterStart = new LinkedHashMap<>();
        int[] presentAtStartReturn = new int[Readiness.values().length];
        List<Double> backendStart = new ArrayList<>();
        List<Double> backendInit = new ArrayList<>();
        for (int round = 0; round < WARMUP + ROUNDS; round++) {
            boolean counted = round >= WARMUP;
            for (Readiness r : Readiness.values()) {
                double[] t = direct(r);
                if (counted) {
                    total.computeIfAbsent("direct " + r, k -> new ArrayList<>()).add(t[0]);
                    afterStart.computeIfAbsent("direct " + r, k -> new ArrayList<>()).add(t[1]);
                    presentAtStartReturn[r.ordinal()] += t[2] > 0 ? 1 : 0;
                }
            }
            long began = System.nanoTime();
            HotInstance hot = backend.startInstance(spec());
            double started = ms(System.nanoTime() - began);
            try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
                HotHttpResponse reply = client.send("POST", "/first", Map.of(),
                        "hello".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
                if (reply.status() != 200) {
                    throw new AssertionError("status " + reply.status());
                }
            }
            double withReply = ms(System.nanoTime() - began);
            backend.destroyInstance(hot);
            if (counted) {
                total.computeIfAbsent("DockerBackend.startInstance + first reply", k -> new ArrayList<>())
                        .add(withReply);
                backendStart.add(started);
                backendInit.add(ms(hot.init().toNanos()));
            }
        }
        System.out.printf(Locale.ROOT, "%n== cold start, %d rounds (median / p10 / p90 ms) ==%n", ROUNDS);
        total.forEach((k, v) -> System.out.printf(Locale.ROOT, "%-48s %s%n", k, stats(v)));
        System.out.printf(Locale.ROOT, "%-48s %s%n", "DockerBackend.startInstance alone", stats(backendStart));
        System.out.printf(Locale.ROOT, "%-48s %s%n", "  of which init (start returned -> ready)", stats(backendInit));
        System.out.println("-- start returned -> ready, by readiness strategy (direct) --");
        afterStart.forEach((k, v) -> System.out.printf(Locale.ROOT, "%-48s %s   socket already there at start"
                + " return: %d/%d%n", k, stats(v), presentAtStartReturn[Readiness.valueOf(k.substring(7)).ordinal()],
                ROUNDS));
        System.out.println("load average at end: " + Files.readString(Path.of("/proc/loadavg")).strip());
    }

    /**
     * docker-java alone: create (as the backend does) + start + wait for the socket + one request and its reply on
     * that connection. Removal is not timed.
     *
     * @return total ms, ms from the start's return to ready, 1 when the socket existed when start returned
     */
    private static double[] direct(Readiness readiness) throws Exception {
        String id = Ids.newTimeOrderedId(Instant.now());
        Path dir = runDir.resolve(id);
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path socket = dir.resolve("fn.sock");
        WatchService watch = null;
        if (readiness == Readiness.INOTIFY) {
            watch = FileSystems.getDefault().newWatchService();
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
        }
        long began = System.nanoTime();
        String container = docker.createContainerCmd(IMAGE)
                .withLabels(Map.of(DockerBackend.LABEL_OWNER, OWNER, DockerBackend.LABEL_INSTANCE, id))
                .withEnv("GRANDA_SOCKET=/granda/fn.sock", "GRANDA_FUNCTION=m", "GRANDA_REVISION=1",
                        "GRANDA_INSTANCE=" + id)
                .withTty(false).withStdinOpen(false)
                .withHostConfig(HostConfig.newHostConfig().withMemory(64L << 20).withMemorySwap(64L << 20)
                        .withNetworkMode("none").withBinds(new Bind(dir.toString(), new Volume("/granda"))))
                .exec().getId();
        SocketChannel channel = null;
        try {
            docker.startContainerCmd(container).exec();
            long started = System.nanoTime();
            boolean present = Files.exists(socket);
            channel = switch (readiness) {
                case SPIN -> awaitPolling(socket, 0);
                case POLL_500US -> awaitPolling(socket, 500_000);
                case POLL_1MS -> awaitPolling(socket, 1_000_000);
                case INOTIFY -> awaitInotify(socket, watch);
            };
            long ready = System.nanoTime();
            channel.write(ByteBuffer.wrap(REQUEST));
            readReply(channel);
            long replied = System.nanoTime();
            return new double[] {ms(replied - began), ms(ready - started), present ? 1 : 0};
        } finally {
            if (channel != null) {
                channel.close();
            }
            if (watch != null) {
                watch.close();
            }
            docker.removeContainerCmd(container).withForce(true).exec();
            RunDirectory.deleteTree(dir);
        }
    }

    private static SocketChannel awaitPolling(Path socket, long pollNanos) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket)) {
                SocketChannel ch = tryConnect(socket);
                if (ch != null) {
                    return ch;
                }
            }
            if (pollNanos == 0) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(pollNanos);
            }
        }
        throw new IOException("not ready: " + socket);
    }

    private static SocketChannel awaitInotify(Path socket, WatchService watch) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket)) {
                SocketChannel ch = tryConnect(socket);
                if (ch != null) {
                    return ch;
                }
                LockSupport.parkNanos(500_000); // bound, not listening yet: the poll fallback
                continue;
            }
            WatchKey key = watch.poll(5, TimeUnit.MILLISECONDS);
            if (key != null) {
                key.pollEvents();
                key.reset();
            }
        }
        throw new IOException("not ready: " + socket);
    }

    private static SocketChannel tryConnect(Path socket) {
        try {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return ch;
            } catch (IOException e) {
                ch.close();
                return null;
            }
        } catch (IOException e) {
            return null;
        }
    }

    /** Reads until the end of the head and a 5-byte body (the echo of "hello"). */
    private static void readReply(SocketChannel channel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (true) {
            if (channel.read(buf) < 0) {
                throw new IOException("EOF");
            }
            String seen = new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
            int end = seen.indexOf("\r\n\r\n");
            if (end >= 0 && seen.length() >= end + 4 + 5) {
                return;
            }
        }
    }

    @Test
    void pause() throws Exception {
        HotInstance idle = backend.startInstance(spec());
        HotInstance paused = backend.startInstance(spec());
        HotInstance worker = backend.startInstance(spec());
        try {
            backend.pauseInstance(paused);
            Thread.sleep(500);
            long idle0 = cpuNanos(idle);
            long paused0 = cpuNanos(paused);
            long shim0 = shimCpuTicks(idle);
            Thread.sleep(10_000);
            long idleUsed = cpuNanos(idle) - idle0;
            long pausedUsed = cpuNanos(paused) - paused0;
            long shimUsed = shimCpuTicks(idle) - shim0;
            System.out.printf(Locale.ROOT, "%n== idle CPU over 10 s ==%n");
            System.out.printf(Locale.ROOT, "idle unpaused hot-echo container (cgroup cpuacct.usage): %d ns%n",
                    idleUsed);
            System.out.printf(Locale.ROOT, "paused hot-echo container (cgroup cpuacct.usage):        %d ns%n",
                    pausedUsed);
            System.out.printf(Locale.ROOT, "its containerd shim (outside the cgroup, runs paused or not): %d ticks"
                    + " (%d ms)%n", shimUsed, shimUsed * 10);
            backend.resumeInstance(paused);

            List<Double> warmSame = new ArrayList<>();
            List<Double> warmNew = new ArrayList<>();
            List<Double> resumeAndCall = new ArrayList<>();
            List<Double> resumeOnly = new ArrayList<>();
            List<Double> pauseOnly = new ArrayList<>();
            try (HotSocketClient keep = HotSocketClient.connect(worker.socket())) {
                for (int i = 0; i < 200; i++) {
                    long t = System.nanoTime();
                    call(keep);
                    if (i >= 20) {
                        warmSame.add(ms(System.nanoTime() - t));
                    }
                }
            }
            for (int i = 0; i < 50; i++) {
                long t = System.nanoTime();
                try (HotSocketClient fresh = HotSocketClient.connect(worker.socket())) {
                    call(fresh);
                }
                if (i >= 5) {
                    warmNew.add(ms(System.nanoTime() - t));
                }
            }
            try (HotSocketClient keep = HotSocketClient.connect(worker.socket())) {
                for (int i = 0; i < WARMUP + ROUNDS; i++) {
                    long p = System.nanoTime();
                    backend.pauseInstance(worker);
                    double pauseMs = ms(System.nanoTime() - p);
                    Thread.sleep(200);
                    long t = System.nanoTime();
                    backend.resumeInstance(worker);
                    double resumed = ms(System.nanoTime() - t);
                    call(keep);
                    double total = ms(System.nanoTime() - t);
                    if (i >= WARMUP) {
                        pauseOnly.add(pauseMs);
                        resumeOnly.add(resumed);
                        resumeAndCall.add(total);
                    }
                    Thread.sleep(50);
                }
            }
            System.out.printf(Locale.ROOT, "%n== calls (median / p10 / p90 ms) ==%n");
            System.out.printf(Locale.ROOT, "%-44s %s%n", "warm call, kept connection", stats(warmSame));
            System.out.printf(Locale.ROOT, "%-44s %s%n", "warm call, new connection", stats(warmNew));
            System.out.printf(Locale.ROOT, "%-44s %s%n", "pause (off the call path)", stats(pauseOnly));
            System.out.printf(Locale.ROOT, "%-44s %s%n", "unpause", stats(resumeOnly));
            System.out.printf(Locale.ROOT, "%-44s %s%n", "unpause + first call, kept connection", stats(resumeAndCall));
        } finally {
            backend.destroyInstance(idle);
            backend.destroyInstance(paused);
            backend.destroyInstance(worker);
        }
    }

    private static void call(HotSocketClient client) throws IOException {
        HotHttpResponse r = client.send("POST", "/", Map.of(), "ping".getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(10));
        if (r.status() != 200) {
            throw new AssertionError("status " + r.status());
        }
    }

    /** cgroup v1 with the cgroupfs driver: /sys/fs/cgroup/cpuacct/docker/<id>/cpuacct.usage, in ns. */
    private static long cpuNanos(HotInstance hot) throws IOException {
        String id = docker.inspectContainerCmd(hot.backendRef()).exec().getId();
        return Long.parseLong(Files.readString(Path.of("/sys/fs/cgroup/cpuacct/docker", id, "cpuacct.usage"))
                .strip());
    }

    /** utime + stime of the container's containerd shim (its process's parent), in clock ticks. */
    private static long shimCpuTicks(HotInstance hot) throws IOException {
        long pid = docker.inspectContainerCmd(hot.backendRef()).exec().getState().getPidLong();
        String status = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] afterName = status.substring(status.lastIndexOf(')') + 2).split(" ");
        long ppid = Long.parseLong(afterName[1]);
        String shim = Files.readString(Path.of("/proc", Long.toString(ppid), "stat"));
        String[] f = shim.substring(shim.lastIndexOf(')') + 2).split(" ");
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private static InstanceSpec spec() {
        return new InstanceSpec(Ids.newTimeOrderedId(Instant.now()), "fn-measure", "measure", 1, IMAGE, Map.of(), 64,
                Duration.ofSeconds(10));
    }

    private static double ms(long nanos) {
        return nanos / 1_000_000.0;
    }

    private static String stats(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return String.format(Locale.ROOT, "%8.3f / %8.3f / %8.3f", percentile(v, 50), percentile(v, 10),
                percentile(v, 90));
    }

    private static double percentile(double[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.round((p / 100.0) * (sorted.length - 1));
        return sorted[Math.min(sorted.length - 1, Math.max(0, index))];
    }
}
