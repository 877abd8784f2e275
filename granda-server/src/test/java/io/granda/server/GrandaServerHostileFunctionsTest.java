package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 7: a function cannot harm another or the platform. Hostile functions run through a real server and the real
 * Docker backend with its default hardening: a fork bomb, memory hogs (run and hot mode), CPU spins (run and hot
 * mode), a function filling /tmp, one writing to its root file system, one opening network connections, and ones
 * looking for other functions' files, the server's data and the Docker socket. Each is contained, and ends the way a
 * user is told it ends. While all of them run at once, a well-behaved hot function keeps answering every call; its
 * p50 and p99 latency, quiet and under the hostile load, are measured, logged and written to
 * {@code target/hostile-functions.txt} (the "p99 within twice the quiet p99" is judged from them in the
 * issue's note: a speed target is not asserted in a unit test).
 *
 * <p>Images: granda-test-busybox (run mode: the SCRIPT variable is the function) and granda-hot-echo (hot mode, with
 * its {@code /hog}, {@code /spin} and {@code /file} paths), both from scripts/build-images.sh. Nothing here sends a
 * packet off this machine: the network attempts are made inside containers that have no interface but loopback.
 */
class GrandaServerHostileFunctionsTest {

    private static final Logger LOG = LoggerFactory.getLogger(GrandaServerHostileFunctionsTest.class);
    private static final String BUSYBOX = "granda-test-busybox";
    private static final String HOT_ECHO = "granda-hot-echo";
    /** The default hardening (docs/configuration.md) this test relies on. */
    private static final int PIDS_LIMIT = 128;
    private static final long TMP_BYTES = 64L * 1024 * 1024;
    /** Quiet and loaded blocks of the latency measurement. */
    private static final int ROUNDS = 3;

    /**
     * Forks without end, in a subshell: ash forks each element of a pipeline from the shell itself, so a bomb in PID 1
     * would end PID 1 at its first refused fork. PID 1 then stays (exec, no fork needed) until the call's timeout.
     */
    private static final String FORK_BOMB = "(b(){ b|b& }; b) 2>/dev/null; exec sleep 30";
    /** Holds 200 MiB in tail's buffer: far past a 16 MiB limit. */
    private static final String MEMORY_HOG = "head -c 200m /dev/zero | tail";
    private static final String CPU_SPIN = "while :; do :; done";
    private static final String FILL_TMP = "dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>&1; echo \"dd=$?\";"
            + " wc -c < /tmp/fill; grep ' /tmp ' /proc/mounts";
    private static final String WRITE_ROOT = "for f in /x /bin/x /tmp/../y; do echo x > $f && echo \"wrote $f\"; done"
            + " 2>&1; mkdir /granda-was-here 2>&1; true";
    /** Addresses off this machine, tried from inside the container: with no interface but lo there is no route. */
    private static final String CONNECT_OUT = "for a in 10.0.0.1 1.1.1.1; do nc $a 80 </dev/null 2>&1"
            + " && echo \"connected to $a\"; done; ls /sys/class/net";

    @TempDir
    Path dataDir;
    private String ownerId;
    private GrandaServer server;
    private ServerHarness http;

    @BeforeEach
    void start() {
        ownerId = "test-hostile-" + UUID.randomUUID().toString().substring(0, 8);
        server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key", ServerHarness.ADMIN_KEY,
                "--port", "0", "--host", "127.0.0.1",
                "--data-dir", dataDir.toString(), "--owner-id", ownerId, "--start-timeout-seconds", "5"}, Map.of()));
        http = new ServerHarness(server.port());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        for (String id : Docker.containersOf(ownerId)) {
            Docker.run("rm", "-f", id);
        }
    }

    // ---- the hostile functions, one by one ----

    @Test
    void aForkBombIsContainedByThePidsLimitAndEndsAtItsTimeout() throws Exception {
        String bomb = runFunction("bomb", FORK_BOMB, 3, 64);
        String echo = hotFunction("bystander", 10, 64);
        assertEquals(200, http.call(echo, "before").status());
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<ServerHarness.Reply> call = pool.submit(() -> http.call(bomb, ""));
            String container = awaitContainer("bomb");
            PidsCgroup[] found = new PidsCgroup[1];
            eventually("the bomb's container runs", () -> (found[0] = PidsCgroup.of(container).orElse(null)) != null);
            PidsCgroup pids = found[0];
            assertEquals(Optional.of((long) PIDS_LIMIT), pids.max(), "the container's pids.max");
            // Read while the bomb goes off: the cgroup goes with the container at the end of the call.
            long peak = 0;
            long refusedForks = 0;
            while (!call.isDone()) {
                peak = Math.max(peak, pids.peak().orElse(peak));
                refusedForks = Math.max(refusedForks, pids.refusedForks().orElse(refusedForks));
                ServerHarness.Reply during = http.call(echo, "during");
                assertEquals(200, during.status(), "another function answers while the bomb runs: " + during.body());
                Thread.sleep(50);
            }
            ServerHarness.Reply r = call.get();
            assertEquals(504, r.status(), r.body());
            assertEquals("timeout", r.json().get("error").asText());
            assertTrue(refusedForks > 0, "the bomb reached the limit: the kernel refused " + refusedForks + " forks");
            assertTrue(peak <= PIDS_LIMIT, "at most " + PIDS_LIMIT + " processes at once, saw " + peak);
        }
        assertEquals(List.of(), containersOf("bomb"), "the bomb's container is gone");
        assertEquals(200, http.get("/health").status());
        assertEquals(200, http.call(echo, "after").status());
    }

    @Test
    void aMemoryHogInRunModeEndsAsOutOfMemoryAndIsRecordedSo() throws Exception {
        String hog = runFunction("hog-run", MEMORY_HOG, 10, 16);
        assertOutOfMemory("hog-run", http.call(hog, ""));
        assertEquals(List.of(), containersOf("hog-run"));
    }

    @Test
    void aMemoryHogInHotModeEndsAsOutOfMemoryAndIsRecordedSoAndItsInstanceIsReplaced() throws Exception {
        String hog = hotFunction("hog-hot", 10, 32);
        ServerHarness.Reply warm = http.call(hog + "/hog/8", "fits");
        assertEquals(200, warm.status(), "8 MiB fit in 32: " + warm.body());
        String instance = warm.header("X-Echo-Instance");

        assertOutOfMemory("hog-hot", http.call(hog + "/hog/64", ""));
        ServerHarness.Reply next = http.call(hog, "next");
        assertEquals(200, next.status(), next.body());
        assertNotEquals(instance, next.header("X-Echo-Instance"), "the killed instance is replaced");
    }

    @Test
    void aCpuSpinInRunModeIsStoppedAtItsTimeoutAndItsContainerRemoved() {
        String spin = runFunction("spin-run", CPU_SPIN, 1, 64);
        ServerHarness.Reply r = http.call(spin, "");
        assertEquals(504, r.status(), r.body());
        assertEquals("timeout", r.json().get("error").asText());
        assertEquals(List.of(), containersOf("spin-run"), "the spinning container is removed");
    }

    @Test
    void aCpuSpinInHotModeIsStoppedAtItsTimeoutAndItsInstanceReplaced() throws Exception {
        String spin = hotFunction("spin-hot", 1, 64);
        ServerHarness.Reply warm = http.call(spin, "warm");
        String container = awaitContainer("spin-hot");
        ServerHarness.Reply r = http.call(spin + "/spin/60000", "");
        assertEquals(504, r.status(), r.body());
        assertEquals("timeout", r.json().get("error").asText());
        eventually("the spinning instance's container is removed", () -> !containersOf("spin-hot").contains(container));
        ServerHarness.Reply next = http.call(spin, "next");
        assertEquals(200, next.status(), next.body());
        assertNotEquals(warm.header("X-Echo-Instance"), next.header("X-Echo-Instance"));
    }

    @Test
    void fillingTmpStopsAt64MiBInMemoryNotOnDisk() {
        String fill = runFunction("fill-tmp", FILL_TMP, 20, 256);
        ServerHarness.Reply r = http.call(fill, "");
        assertEquals(200, r.status(), r.body());
        List<String> lines = r.body().lines().toList();
        assertTrue(r.body().contains("No space left on device"), r.body());
        assertTrue(lines.contains("dd=1"), "dd failed: " + r.body());
        assertTrue(lines.contains(Long.toString(TMP_BYTES)), "exactly 64 MiB fit: " + r.body());
        String mount = lines.getLast();
        // A tmpfs lives in the container's memory (and counts against its limit): nothing reaches the host's disk.
        assertTrue(mount.startsWith("tmpfs /tmp tmpfs ") && mount.contains("size=65536k"), mount);
    }

    @Test
    void writingToTheRootFileSystemIsRefusedInRunAndHotMode() {
        String run = runFunction("write-root", WRITE_ROOT, 10, 64);
        ServerHarness.Reply r = http.call(run, "");
        assertEquals(200, r.status(), r.body());
        assertFalse(r.body().contains("wrote"), r.body());
        assertEquals(4, r.body().split("Read-only file system", -1).length - 1, r.body());

        String hot = hotFunction("write-root-hot", 10, 64);
        ServerHarness.Reply root = http.send("PUT", hot + "/file/x", "text/plain", "x");
        assertEquals(403, root.status(), root.body());
        assertEquals("open: Read-only file system\n", root.body());
        // Only its own scratch space is writable.
        assertEquals(201, http.send("PUT", hot + "/file/tmp/x", "text/plain", "x").status());
        assertEquals(201, http.send("PUT", hot + "/file/granda/x", "text/plain", "x").status());
    }

    @Test
    void aNetworkConnectionFailsAtOnceForLackOfARoute() {
        String net = runFunction("connect-out", CONNECT_OUT, 10, 64);
        ServerHarness.Reply r = http.call(net, "");
        assertEquals(200, r.status(), r.body());
        assertFalse(r.body().contains("connected"), r.body());
        // ENETUNREACH: the kernel refused before any packet could be built, let alone sent.
        assertEquals(2, r.body().split("Network is unreachable", -1).length - 1, r.body());
        assertTrue(r.body().endsWith("\nlo\n"), "no interface but loopback: " + r.body());

        String hot = hotFunction("connect-out-hot", 10, 64);
        assertEquals("lo\n", http.send("GET", hot + "/file/sys/class/net", null, null).body());
    }

    @Test
    void aFunctionCannotReadAnotherFunctionsFilesNorTheServersDataNorTheDockerSocket() throws Exception {
        String secret = "secret-" + UUID.randomUUID();
        // Hot: the keeper writes the secret to its /tmp and its own instance directory, and can read it back.
        String keeper = hotFunction("keeper", 10, 64);
        for (String file : List.of("/file/tmp/secret", "/file/granda/secret")) {
            assertEquals(201, http.send("PUT", keeper + file, "text/plain", secret).status());
            assertEquals(secret, http.send("GET", keeper + file, null, null).body());
        }
        String snoop = hotFunction("snoop", 10, 64);
        for (String file : List.of("/file/tmp/secret", "/file/granda/secret", "/file/run/docker.sock",
                "/file/var/run/docker.sock", "/file" + dataDir.resolve("granda.db"), "/file" + dataDir)) {
            ServerHarness.Reply r = http.send("GET", snoop + file, null, null);
            assertEquals(404, r.status(), file + ": " + r.body());
        }
        assertEquals("fn.sock\n", http.send("GET", snoop + "/file/granda", null, null).body(),
                "an instance's directory holds its own socket only");
        assertTrue(http.send("GET", snoop + "/file/proc/1/cmdline", null, null).body().startsWith("/hot-echo\0"),
                "PID 1 is the function's own process: no other process is visible");
        // The mounts from the host (under the data dir's run/) are the instance's own directory, at /granda, and the
        // loopback names at /etc/hosts, read-only.
        String mounts = http.send("GET", snoop + "/file/proc/self/mountinfo", null, null).body();
        assertFalse(mounts.contains("docker.sock"), mounts);
        List<String[]> fromDataDir = mounts.lines().filter(l -> l.contains(dataDir.toString()))
                .map(l -> l.split(" ")).toList();
        assertEquals(List.of("/etc/hosts", "/granda"), fromDataDir.stream().map(f -> f[4]).sorted().toList(), mounts);
        assertTrue(fromDataDir.stream().filter(f -> f[4].equals("/etc/hosts")).allMatch(f -> f[5].startsWith("ro,")),
                mounts);

        // Run mode: the keeper holds the secret in /tmp (and its command line) while the snoop looks for it.
        String keeperRun = runFunction("keeper-run", "echo \"$1\" > /tmp/secret; sleep 4", 10, 64);
        String snoopRun = runFunction("snoop-run", "cat /tmp/secret 2>&1; ps -o args; ls " + dataDir + " 2>&1;"
                + " find / -path /proc -prune -o -path /sys -prune -o \\( -name '*.sock' -o -name 'granda.db' \\)"
                + " -print", 10, 64);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<ServerHarness.Reply> keeping = pool.submit(() -> http.call(keeperRun, secret));
            awaitContainer("keeper-run");
            ServerHarness.Reply r = http.call(snoopRun, "");
            assertEquals(200, r.status(), r.body());
            assertFalse(r.body().contains(secret), r.body());
            assertTrue(r.body().startsWith("cat: can't open '/tmp/secret': No such file or directory\n"), r.body());
            assertFalse(r.body().contains("sleep"), "the other container's processes are invisible: " + r.body());
            assertTrue(r.body().contains("ls: " + dataDir + ": No such file or directory"), r.body());
            assertFalse(r.body().contains(".sock"), r.body());
            assertFalse(r.body().contains("granda.db"), r.body());
            assertEquals(200, keeping.get(30, TimeUnit.SECONDS).status());
        }
    }

    // ---- all at once, and a well-behaved function keeps answering ----

    /** One hostile function of the load, and how each of its calls must end. */
    private record Hostile(String name, Supplier<ServerHarness.Reply> call, int status, String error) {
    }

    @Test
    void whileHostileFunctionsRunAWellBehavedHotFunctionKeepsAnsweringAndItsLatencyIsMeasured() throws Exception {
        String echo = hotFunction("well-behaved", 10, 64);
        String path = URI.create(echo).getPath();
        List<Hostile> hostiles = List.of(
                new Hostile("fork-bomb", call(runFunction("bomb", FORK_BOMB, 2, 64), ""), 504, "timeout"),
                new Hostile("memory-hog-run", call(runFunction("hog-run", MEMORY_HOG, 10, 16), ""),
                        502, "out_of_memory"),
                new Hostile("memory-hog-hot", call(hotFunction("hog-hot", 10, 32) + "/hog/64", ""),
                        502, "out_of_memory"),
                new Hostile("cpu-spin-run", call(runFunction("spin-run", CPU_SPIN, 1, 64), ""), 504, "timeout"),
                new Hostile("cpu-spin-hot", call(hotFunction("spin-hot", 1, 64) + "/spin/60000", ""), 504, "timeout"),
                new Hostile("fill-tmp", call(runFunction("fill-tmp", FILL_TMP, 20, 256), ""), 200, null),
                new Hostile("write-root", call(runFunction("write-root", WRITE_ROOT, 10, 64), ""), 200, null),
                new Hostile("connect-out", call(runFunction("connect-out", CONNECT_OUT, 10, 64), ""), 200, null));

        ConcurrentMap<String, AtomicLong> calls = new ConcurrentHashMap<>();
        hostiles.forEach(h -> calls.put(h.name(), new AtomicLong()));
        ConcurrentMap<String, String> wrongEndings = new ConcurrentHashMap<>();
        AtomicLong missedOutOfMemory = new AtomicLong();
        List<long[]> quiet = new ArrayList<>();
        List<long[]> loaded = new ArrayList<>();
        try (KeptConnection connection = new KeptConnection(server.port())) {
            // Warm-up: the instance, the connection, and the JIT of the whole call path (the first thousand calls
            // are several times slower than later ones).
            measureFor(connection, path, 3000, TimeUnit.SECONDS.toNanos(3));
            // Quiet and loaded alternate, so that whatever else this machine does at the time (other builds, other
            // tests on the same engine) weighs on both sets of samples alike.
            for (int round = 0; round < ROUNDS; round++) {
                quiet.add(measureFor(connection, path, 1000, TimeUnit.SECONDS.toNanos(3)));
                AtomicBoolean stop = new AtomicBoolean();
                try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<Future<?>> loops = new ArrayList<>();
                    for (Hostile h : hostiles) {
                        loops.add(pool.submit(() -> {
                            while (!stop.get()) {
                                ServerHarness.Reply r = h.call().get();
                                calls.get(h.name()).incrementAndGet();
                                String error = r.status() == 200 ? null : r.json().path("error").asText(null);
                                // Under this load a memory kill can end before Granda sees the kernel's count
                                // (a documented limit; alone, a hog is always reported so: the tests above): it is
                                // then a 502 function_error, never a success or a 5xx of the platform.
                                boolean missedOom = "out_of_memory".equals(h.error()) && r.status() == 502
                                        && "function_error".equals(error);
                                if (missedOom) {
                                    missedOutOfMemory.incrementAndGet();
                                } else if (r.status() != h.status() || !Objects.equals(error, h.error())) {
                                    wrongEndings.putIfAbsent(h.name(), r.status() + " " + r.body());
                                }
                            }
                            return null;
                        }));
                    }
                    // Measured once the hostile functions' containers have started: each is then doing its worst.
                    Thread.sleep(1000);
                    loaded.add(measureFor(connection, path, 1000, TimeUnit.SECONDS.toNanos(4)));
                    stop.set(true);
                    for (Future<?> loop : loops) {
                        loop.get(60, TimeUnit.SECONDS);
                    }
                }
                eventually("the hostile functions' containers are gone", () -> Docker.run("ps", "-q", "--filter",
                        "label=io.granda.owner=" + ownerId).lines().count() == containersOf("well-behaved").size());
            }
        }
        Figures quietFigures = Figures.of(quiet);
        Figures loadedFigures = Figures.of(loaded);
        report(quietFigures, loadedFigures, calls);
        LOG.atInfo().addKeyValue("missedOutOfMemory", missedOutOfMemory.get())
                .log("memory kills under load reported as function errors");
        assertTrue(calls.values().stream().allMatch(c -> c.get() >= ROUNDS), "each hostile function ran: " + calls);
        assertEquals(Map.of(), wrongEndings, "each hostile call ended as it must, also under load");
        // The bound, p99 under load within twice the quiet p99, is a speed target: it is measured here and
        // written to target/hostile-functions.txt (and the log), and judged in the note, not asserted in a
        // unit test whose machine may be doing anything else at the time. What is asserted is what must always hold:
        // every call of the well-behaved function answered, correctly, while the hostile ones ran.
        assertTrue(loadedFigures.calls() >= ROUNDS * 1000, "the well-behaved function kept answering: " + loadedFigures);
        assertEquals(200, http.get("/health").status());
    }

    private Supplier<ServerHarness.Reply> call(String url, String payload) {
        return () -> http.call(url, payload);
    }

    /**
     * Sequential calls, at least {@code calls} of them and for at least {@code nanos}; every one must answer 200 with
     * its payload.
     *
     * @return each call's latency, in nanoseconds
     */
    private static long[] measureFor(KeptConnection connection, String path, int calls, long nanos)
            throws IOException {
        long[] samples = new long[Math.max(calls, 1024)];
        int n = 0;
        long until = System.nanoTime() + nanos;
        while (n < calls || System.nanoTime() < until) {
            String payload = "call-" + n;
            long t0 = System.nanoTime();
            KeptConnection.Answer a = connection.post(path, payload);
            long took = System.nanoTime() - t0;
            if (a.status() != 200 || !a.body().equals(payload)) {
                throw new AssertionError("call " + n + " of the well-behaved function failed: " + a);
            }
            if (n == samples.length) {
                samples = Arrays.copyOf(samples, n * 2);
            }
            samples[n++] = took;
        }
        return Arrays.copyOf(samples, n);
    }

    /** Latency percentiles of a set of samples, nearest-rank over all of them. */
    private record Figures(int calls, long p50Micros, long p99Micros, long maxMicros) {
        static Figures of(List<long[]> blocks) {
            long[] sorted = blocks.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            return new Figures(sorted.length, rank(sorted, 0.50) / 1000, rank(sorted, 0.99) / 1000,
                    sorted[sorted.length - 1] / 1000);
        }

        private static long rank(long[] sorted, double p) {
            return sorted[(int) Math.ceil(p * sorted.length) - 1];
        }

        @Override
        public String toString() {
            return String.format("%d calls: p50 %.3f ms, p99 %.3f ms, max %.3f ms", calls, p50Micros / 1000.0,
                    p99Micros / 1000.0, maxMicros / 1000.0);
        }
    }

    private static void report(Figures quiet, Figures loaded, Map<String, AtomicLong> hostileCalls) throws IOException {
        LOG.atInfo().addKeyValue("quietCalls", quiet.calls()).addKeyValue("quietP50Ms", quiet.p50Micros() / 1000.0)
                .addKeyValue("quietP99Ms", quiet.p99Micros() / 1000.0)
                .addKeyValue("loadedCalls", loaded.calls()).addKeyValue("loadedP50Ms", loaded.p50Micros() / 1000.0)
                .addKeyValue("loadedP99Ms", loaded.p99Micros() / 1000.0)
                .addKeyValue("loadedMaxMs", loaded.maxMicros() / 1000.0)
                .addKeyValue("hostileCalls", new TreeMap<>(hostileCalls)).addKeyValue("loadAverage", loadAverage())
                .log("well-behaved hot function latency, quiet and with hostile functions running");
        String text = "# GrandaServerHostileFunctionsTest: a well-behaved hot function (granda-hot-echo) called\n"
                + "# sequentially over one kept connection, in " + ROUNDS + " rounds of a quiet block then a block while\n"
                + "# the hostile functions run; percentiles (nearest rank) over all the samples of each kind\n"
                + "quiet:  " + quiet + "\n"
                + "loaded: " + loaded + "\n"
                + "hostile calls: " + new TreeMap<>(hostileCalls) + "\n"
                + "processors: " + Runtime.getRuntime().availableProcessors() + "\n"
                + "load average at the end (others' work on this machine included): " + loadAverage() + "\n";
        Path out = Path.of("target", "hostile-functions.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, text, StandardCharsets.UTF_8);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    // ---- helpers ----

    private String runFunction(String name, String script, int timeoutSeconds, int memoryMb) {
        ObjectNode spec = ServerHarness.JSON.createObjectNode().put("name", name).put("image", BUSYBOX)
                .put("timeoutSeconds", timeoutSeconds).put("memoryMb", memoryMb);
        spec.putObject("env").put("SCRIPT", script);
        return create(spec);
    }

    private String hotFunction(String name, int timeoutSeconds, int memoryMb) {
        return create(ServerHarness.JSON.createObjectNode().put("name", name).put("image", HOT_ECHO)
                .put("mode", "hot").put("timeoutSeconds", timeoutSeconds).put("memoryMb", memoryMb));
    }

    private String create(ObjectNode spec) {
        ServerHarness.Reply r = http.createFunction(spec.toString());
        assertEquals(201, r.status(), r.body());
        return r.json().get("url").asText();
    }

    /** Asserts the answer and the invocation record of a call killed for memory. */
    private void assertOutOfMemory(String function, ServerHarness.Reply r) throws InterruptedException {
        assertEquals(502, r.status(), r.body());
        JsonNode body = r.json();
        assertEquals("out_of_memory", body.get("error").asText(), r.body());
        assertEquals("out_of_memory", body.get("outcome").asText(), r.body());
        String id = body.get("invocationId").asText();
        JsonNode[] record = new JsonNode[1];
        eventually("the call's record is stored", () -> {
            for (JsonNode item : http.get("/functions/" + function + "/invocations?limit=10").json().get("items")) {
                if (item.get("invocationId").asText().equals(id)) {
                    record[0] = item;
                    return true;
                }
            }
            return false;
        });
        assertEquals("out_of_memory", record[0].get("outcome").asText(), record[0].toString());
        assertEquals(1, http.get("/functions/" + function + "/usage").json().get("outOfMemory").asLong());
    }

    /** @return ids of the containers, in any state, of one function of this server */
    private List<String> containersOf(String function) {
        String out = Docker.run("ps", "-aq", "--no-trunc", "--filter", "label=io.granda.owner=" + ownerId,
                "--filter", "label=io.granda.function=" + function);
        return out.isEmpty() ? List.of() : List.of(out.split("\\s+"));
    }

    private String awaitContainer(String function) throws InterruptedException {
        String[] id = new String[1];
        eventually("a container of " + function + " runs", () -> {
            List<String> ids = containersOf(function);
            id[0] = ids.isEmpty() ? null : ids.getFirst();
            return id[0] != null;
        });
        return id[0];
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within 20 s: " + what);
            Thread.sleep(20);
        }
    }

    /**
     * A container's pids cgroup as the host sees it (cgroup v1 {@code pids} hierarchy, or v2), found through its first
     * process: how many processes it may have, had at most, and how many forks the kernel refused it.
     */
    private record PidsCgroup(Path dir) {
        static Optional<PidsCgroup> of(String container) {
            String pid = Docker.run("inspect", "-f", "{{.State.Pid}}", container);
            if (pid.equals("0")) {
                return Optional.empty(); // created, not started yet
            }
            try {
                for (String line : Files.readAllLines(Path.of("/proc", pid, "cgroup"))) {
                    String[] parts = line.split(":", 3);
                    Path dir = null;
                    if (Arrays.asList(parts[1].split(",")).contains("pids")) {
                        dir = Path.of("/sys/fs/cgroup/pids" + parts[2]);
                    } else if (parts[0].equals("0")) {
                        dir = Path.of("/sys/fs/cgroup" + parts[2]);
                    }
                    if (dir != null && Files.exists(dir.resolve("pids.max"))) {
                        return Optional.of(new PidsCgroup(dir));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Optional.empty();
        }

        Optional<Long> max() {
            return read("pids.max").filter(s -> !s.equals("max")).map(Long::parseLong);
        }

        Optional<Long> peak() {
            return read("pids.peak").map(Long::parseLong);
        }

        /** pids.events "max N": forks refused because the limit was reached. */
        Optional<Long> refusedForks() {
            return read("pids.events").map(s -> Long.parseLong(s.replaceAll("(?s).*max (\\d+).*", "$1")));
        }

        private Optional<String> read(String file) {
            try {
                return Optional.of(Files.readString(dir.resolve(file)).strip());
            } catch (IOException e) {
                return Optional.empty(); // the cgroup went with its container
            }
        }
    }
}
