package io.granda.bench;

import io.granda.core.DeployedFunction;
import io.granda.core.InstanceInfo;
import io.granda.core.InvocationRecord;
import io.granda.core.ScalingPolicy;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The side-by-side comparison, in one run, of five ways to call the same trivial function (the hot echo image,
 * payload {@code hello}), with a table of medians, 99th percentiles and ratios, the throughput of a warm call at 1, 8
 * and 64 callers, a burst of simultaneous first calls, and the targets as PASS/FAIL:
 *
 * <ol type="a">
 *   <li>{@code docker run --rm} of the image (the CLI, one container per call);</li>
 *   <li>Granda run mode, one container per call, through the function's URL (the original Granda);</li>
 *   <li>Granda cold: hot mode with no instance yet, through the URL;</li>
 *   <li>Granda warm, through the URL;</li>
 *   <li>the floor: the same warm process called straight on its unix socket;</li>
 * </ol>
 * plus the engine floor under (c): docker-java create + start + socket ready + one reply with Granda's settings
 * ({@link EngineFloor}). (c) and the engine floor alternate sample by sample, and (d) and (e) block by block, so
 * that a change of load during the run weighs on both alike. (d) and (e) use the same client
 * ({@link MiniHttpClient}), so their difference is Granda.
 *
 * <p>Usage: {@code java -cp granda-bench.jar io.granda.bench.Comparison [--option value]...}; {@code --help} lists
 * the options. Prints the table and writes it to {@code bench-results/comparison-<timestamp>.md}; the in-process
 * server's log goes to {@code bench-results/granda-bench.log}. Takes 65 to 70 s with the defaults on 2 CPUs.
 */
public final class Comparison {

    /**
     * One run's settings.
     *
     * @param dockerRunSamples    samples of (a)
     * @param runSamples          samples of (b)
     * @param coldSamples         samples of (c), and as many of the engine floor
     * @param warmSamples         samples of (d), and as many of (e)
     * @param warmupCalls         calls of (d) and of (e) before measuring
     * @param throughputSeconds   the measured window of each throughput run
     * @param throughputWarmup    the warm-up of each throughput run, seconds
     * @param throughputInstances instances of the throughput function (all prewarmed)
     * @param concurrency         calls one of those instances takes at once
     * @param burstCallers        simultaneous first calls of the burst
     * @param burstMaxInstances   the burst function's maximum
     * @param outDir              where the report goes
     */
    record Settings(int dockerRunSamples, int runSamples, int coldSamples, int warmSamples, int warmupCalls,
                    int throughputSeconds, int throughputWarmup, int throughputInstances, int concurrency,
                    int burstCallers, int burstMaxInstances, Path outDir) {

        static final Settings DEFAULTS = new Settings(20, 30, 30, 30_000, 10_000, 5, 2, 8, 8, 64, 16,
                Path.of("bench-results"));

        static final String HELP = """
                Usage: java -cp granda-bench.jar io.granda.bench.Comparison [--option value]...

                  --docker-run-samples N    (a) docker run --rm                            [20]
                  --run-samples N           (b) Granda run mode via URL                    [30]
                  --cold-samples N          (c) Granda cold via URL, and the engine floor  [30]
                  --warm-samples N          (d) Granda warm via URL, and (e) direct        [30000]
                  --warmup-calls N          calls of (d) and (e) before measuring          [10000]
                  --throughput-seconds N    measured window per caller count               [5]
                  --throughput-warmup N     warm-up per caller count, seconds              [2]
                  --throughput-instances N  prewarmed instances for the throughput runs    [8]
                  --concurrency N           calls per instance at once, throughput runs    [8]
                  --burst-callers N         simultaneous first calls of the burst          [64]
                  --burst-max-instances N   the burst function's maxInstances              [16]
                  --out DIR                 where comparison-<timestamp>.md goes           [bench-results]
                  --quick                   few samples and short windows (a smoke run, not a result)

                System properties: -Dgranda.bench.image (granda-hot-echo:latest), -Dgranda.bench.log (server log
                file), -Dgranda.bench.callLog=OFF (drop the server's per-call log line).
                """;

        static Settings parse(String[] args) {
            Settings s = DEFAULTS;
            for (int i = 0; i < args.length; i++) {
                String flag = args[i];
                if (flag.equals("--quick")) {
                    s = new Settings(3, 5, 5, 3000, 2000, 2, 1, s.throughputInstances, s.concurrency, s.burstCallers,
                            s.burstMaxInstances, s.outDir);
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(flag + " needs a value; see --help");
                }
                String v = args[++i];
                s = switch (flag) {
                    case "--docker-run-samples" -> new Settings(positive(flag, v), s.runSamples, s.coldSamples,
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--run-samples" -> new Settings(s.dockerRunSamples, positive(flag, v), s.coldSamples,
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--cold-samples" -> new Settings(s.dockerRunSamples, s.runSamples, positive(flag, v),
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--warm-samples" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            positive(flag, v), s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--warmup-calls" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            s.warmSamples, positive(flag, v), s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--throughput-seconds" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            s.warmSamples, s.warmupCalls, positive(flag, v), s.throughputWarmup,
                            s.throughputInstances, s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--throughput-warmup" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, positive(flag, v),
                            s.throughputInstances, s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--throughput-instances" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            positive(flag, v), s.concurrency, s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--concurrency" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, positive(flag, v), s.burstCallers, s.burstMaxInstances, s.outDir);
                    case "--burst-callers" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, s.concurrency, positive(flag, v), s.burstMaxInstances, s.outDir);
                    case "--burst-max-instances" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples,
                            s.warmSamples, s.warmupCalls, s.throughputSeconds, s.throughputWarmup,
                            s.throughputInstances, s.concurrency, s.burstCallers, positive(flag, v), s.outDir);
                    case "--out" -> new Settings(s.dockerRunSamples, s.runSamples, s.coldSamples, s.warmSamples,
                            s.warmupCalls, s.throughputSeconds, s.throughputWarmup, s.throughputInstances,
                            s.concurrency, s.burstCallers, s.burstMaxInstances, Path.of(v));
                    default -> throw new IllegalArgumentException("unknown option " + flag + "; see --help");
                };
            }
            return s;
        }

        private static int positive(String flag, String value) {
            try {
                int n = Integer.parseInt(value);
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // Reported below.
            }
            throw new IllegalArgumentException(flag + " must be a positive whole number, was '" + value + "'");
        }
    }

    /** The caller counts of the throughput runs. */
    static final int[] CALLERS = {1, 8, 64};
    /** Target: what Granda may add to a warm call at the median, in ms. */
    static final double MAX_WARM_OVERHEAD_MS = 0.3;
    /** Target: warm calls per second with 64 callers. */
    static final double MIN_THROUGHPUT_64 = 10_000;
    /** Target: a cold start over the engine's own create + start + first reply. */
    static final double MAX_COLD_OVER_FLOOR = 1.1;
    /** Target: how much faster a warm call is than a run-mode call, at the median. */
    static final double MIN_WARM_SPEEDUP = 100;

    private static final byte[] RUN_MODE_OUTPUT = "hello\n".getBytes(StandardCharsets.US_ASCII);

    private final Settings settings;
    private final StringBuilder notes = new StringBuilder();

    private Comparison(Settings settings) {
        this.settings = settings;
    }

    public static void main(String[] args) throws Exception {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.out.print(Settings.HELP);
            return;
        }
        Settings settings;
        try {
            settings = Settings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("comparison: " + e.getMessage());
            System.exit(2);
            return;
        }
        int status = 0;
        try {
            new Comparison(settings).run();
        } catch (Exception | AssertionError e) {
            System.err.println("comparison failed: " + e);
            e.printStackTrace();
            status = 1;
        }
        // The server is closed (and its containers removed); end now rather than wait for libraries' threads.
        System.exit(status);
    }

    private static void progress(String message) {
        System.err.println("[bench] " + message);
    }

    private void run() throws Exception {
        Instant startedAt = Instant.now();
        String loadAtStart = Machine.loadAverage();
        String image = BenchServer.image();
        progress("starting an in-process Granda server (its log: "
                + System.getProperty("granda.bench.log", "bench-results/granda-bench.log") + ")");
        Samples a;
        Samples b;
        Samples c;
        Samples floor;
        Samples d;
        Samples e;
        List<ThroughputRun> throughput = new ArrayList<>();
        BurstRun burst;
        String dockerVersion;
        try (BenchServer server = BenchServer.start()) {
            dockerVersion = server.engine().version();
            a = dockerRun(image);
            b = runMode(server);
            Samples[] cold = coldAndFloor(server, image);
            c = cold[0];
            floor = cold[1];
            Samples[] warm = warm(server);
            d = warm[0];
            e = warm[1];
            DeployedFunction f = server.deployHot("cmp-throughput", new ScalingPolicy(Duration.ofMinutes(10),
                    settings.throughputInstances, settings.throughputInstances, settings.concurrency));
            server.awaitReady(f.name(), settings.throughputInstances);
            for (int callers : CALLERS) {
                progress("(d) throughput with " + callers + " callers: " + settings.throughputWarmup + " s warm-up, "
                        + settings.throughputSeconds + " s measured");
                throughput.add(ThroughputRun.run(callers, () -> server.viaUrl(f), BenchServer.PAYLOAD,
                        settings.throughputWarmup * 1000L, settings.throughputSeconds * 1000L));
            }
            server.delete(f.name());
            progress("burst: " + settings.burstCallers + " simultaneous first calls, maxInstances "
                    + settings.burstMaxInstances);
            burst = BurstRun.run(server, "cmp-burst", settings.burstCallers, settings.burstMaxInstances);
            server.delete("cmp-burst");
        }
        String loadAtEnd = Machine.loadAverage();
        String report = render(startedAt, loadAtStart, loadAtEnd, dockerVersion, image, a, b, c, floor, d, e,
                throughput, burst);
        System.out.println(report);
        Files.createDirectories(settings.outDir);
        Path file = settings.outDir.resolve("comparison-"
                + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(startedAt)
                + ".md");
        Files.writeString(file, report);
        progress("written to " + file + " in " + Duration.between(startedAt, Instant.now()).toSeconds() + " s");
    }

    // ------------------------------------------------------------------------------------------------------------
    // (a) docker run --rm

    private Samples dockerRun(String image) throws IOException, InterruptedException {
        progress("(a) docker run --rm " + image + " hello: " + settings.dockerRunSamples + " samples");
        Samples samples = new Samples(settings.dockerRunSamples);
        for (int i = -2; i < settings.dockerRunSamples; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder("docker", "run", "--rm", image, "hello")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] out = p.getInputStream().readAllBytes();
            int exit = p.waitFor();
            long took = System.nanoTime() - t0;
            if (exit != 0 || !java.util.Arrays.equals(out, RUN_MODE_OUTPUT)) {
                throw new IllegalStateException("docker run answered exit " + exit + ", '"
                        + new String(out, StandardCharsets.UTF_8) + "'");
            }
            if (i >= 0) {
                samples.add(took);
            }
        }
        return samples;
    }

    // ------------------------------------------------------------------------------------------------------------
    // (b) run mode through the URL

    private Samples runMode(BenchServer server) throws IOException {
        progress("(b) Granda run mode via URL: " + settings.runSamples + " samples");
        DeployedFunction f = server.deployRun("cmp-run");
        Samples samples = new Samples(settings.runSamples);
        try (MiniHttpClient client = server.viaUrl(f).connect()) {
            for (int i = -2; i < settings.runSamples; i++) {
                long t0 = System.nanoTime();
                int status = client.call();
                long took = System.nanoTime() - t0;
                if (status != 200 || !client.bodyEquals(RUN_MODE_OUTPUT)) {
                    throw new IllegalStateException("run mode answered " + status + ": " + client.body());
                }
                if (i >= 0) {
                    samples.add(took);
                }
            }
        }
        server.delete(f.name());
        return samples;
    }

    // ------------------------------------------------------------------------------------------------------------
    // (c) cold through the URL, and the engine floor, alternating

    private Samples[] coldAndFloor(BenchServer server, String image) throws IOException {
        progress("(c) Granda cold via URL and the engine floor, alternating: " + settings.coldSamples + " samples each");
        DeployedFunction f = server.deployHot("cmp-cold", ScalingPolicy.DEFAULT.withMaxInstances(1));
        Samples cold = new Samples(settings.coldSamples);
        Samples floor = new Samples(settings.coldSamples);
        try (MiniHttpClient client = server.viaUrl(f).connect();
             EngineFloor engineFloor = new EngineFloor(server.engine(), server.dataDir().resolve("floor"),
                     server.ownerId() + "-floor", image, f.spec().memoryMb(), BenchServer.PAYLOAD)) {
            for (int i = -2; i < settings.coldSamples; i++) {
                boolean floorFirst = (i & 1) == 1;
                if (floorFirst) {
                    long t = engineFloor.startAndCall();
                    engineFloor.removeStarted();
                    if (i >= 0) {
                        floor.add(t);
                    }
                }
                f = server.makeCold(f);
                long t0 = System.nanoTime();
                int status = client.call();
                long took = System.nanoTime() - t0;
                checkCold(client, status, f);
                if (i >= 0) {
                    cold.add(took);
                }
                if (!floorFirst) {
                    // The instance just started stays; the engine is otherwise idle, as for Granda's own start.
                    long t = engineFloor.startAndCall();
                    engineFloor.removeStarted();
                    if (i >= 0) {
                        floor.add(t);
                    }
                }
            }
        }
        coldBreakdown(server, f.name());
        server.delete(f.name());
        return new Samples[] {cold, floor};
    }

    private static void checkCold(MiniHttpClient client, int status, DeployedFunction f) {
        String revision = Long.toString(f.revision());
        if (status != 200 || !client.bodyEquals(BenchServer.PAYLOAD) || !"true".equals(client.header("X-Granda-Cold"))
                || !revision.equals(client.header("X-Echo-Revision"))) {
            throw new IllegalStateException("cold call: status " + status + ", cold " + client.header("X-Granda-Cold")
                    + ", X-Echo-Revision " + client.header("X-Echo-Revision") + " (expected " + revision + "), body '"
                    + client.body() + "'");
        }
    }

    /** Granda's own record of the cold calls: where their time went, as it measured it. */
    private void coldBreakdown(BenchServer server, String name) {
        List<InvocationRecord> records = server.granda().invocations(name, settings.coldSamples, null).items();
        notes.append("\nGranda's own records of the (c) calls, medians over ").append(records.size())
                .append(": call in Granda (first to last instant of Granda.invoke) ")
                .append(ms(median(records, r -> micros(r.start(), r.end())) / 1000.0))
                .append(" ms = container create+start ").append(ms(median(records, r -> r.phases().startMicros()) / 1000.0))
                .append(" ms + until the socket accepts ").append(ms(median(records, r -> r.phases().initMicros()) / 1000.0))
                .append(" ms + queue beyond that ").append(ms(median(records, r -> r.phases().queueMicros()) / 1000.0))
                .append(" ms + run (connect and exchange) ").append(ms(median(records, r -> r.phases().runMicros()) / 1000.0))
                .append(" ms.\n");
    }

    // ------------------------------------------------------------------------------------------------------------
    // (d) warm through the URL and (e) the same process on its socket, block by block

    private Samples[] warm(BenchServer server) throws IOException {
        progress("(d) Granda warm via URL and (e) direct on the socket: " + settings.warmupCalls + " warm-up calls each, "
                + settings.warmSamples + " samples each");
        DeployedFunction f = server.deployHot("cmp-warm", ScalingPolicy.DEFAULT.withMaxInstances(1));
        Samples viaUrl = new Samples(settings.warmSamples);
        Samples direct = new Samples(settings.warmSamples);
        try (MiniHttpClient url = server.viaUrl(f).connect()) {
            url.call();
            InstanceInfo instance = server.awaitReady(f.name(), 1).getFirst();
            try (MiniHttpClient socket = server.direct(instance.id()).connect()) {
                url.call();
                if (!instance.id().equals(url.header("X-Echo-Instance"))) {
                    throw new IllegalStateException("(d) is served by " + url.header("X-Echo-Instance")
                            + ", (e) calls " + instance.id());
                }
                for (int i = 0; i < settings.warmupCalls; i++) {
                    timed(url, null);
                    timed(socket, null);
                }
                long gcCount = gcCount();
                long gcMillis = gcMillis();
                int block = 1000;
                for (int done = 0; done < settings.warmSamples; done += block) {
                    int n = Math.min(block, settings.warmSamples - done);
                    boolean urlFirst = (done / block) % 2 == 0;
                    for (int round = 0; round < 2; round++) {
                        boolean useUrl = urlFirst == (round == 0);
                        for (int k = 0; k < n; k++) {
                            if (useUrl) {
                                timed(url, viaUrl);
                            } else {
                                timed(socket, direct);
                            }
                        }
                    }
                }
                notes.append("\nDuring the measured (d)/(e) calls the bench JVM (client and server) ran ")
                        .append(gcCount() - gcCount).append(" garbage collections, ").append(gcMillis() - gcMillis)
                        .append(" ms in all.\n");
            }
        }
        warmBreakdown(server, f.name(), viaUrl, direct);
        server.delete(f.name());
        return new Samples[] {viaUrl, direct};
    }

    private static void timed(MiniHttpClient client, Samples into) throws IOException {
        long t0 = System.nanoTime();
        int status = client.call();
        long took = System.nanoTime() - t0;
        if (status != 200 || !client.bodyEquals(BenchServer.PAYLOAD)) {
            throw new IllegalStateException(client + " answered " + status + ": " + client.body());
        }
        if (into != null) {
            into.add(took);
        }
    }

    /** Granda's own record of the last (d) calls: how much of a call it spends outside the exchange. */
    private void warmBreakdown(BenchServer server, String name, Samples d, Samples e) {
        List<InvocationRecord> records = server.granda().invocations(name, 1000, null).items();
        double inGranda = median(records, r -> micros(r.start(), r.end())) / 1000.0;
        double run = median(records, r -> r.phases().runMicros()) / 1000.0;
        notes.append("\nWhere a warm call's time goes (medians; the last ").append(records.size())
                .append(" (d) calls as Granda recorded them): (d) seen by the client ").append(ms3(d.p50Millis()))
                .append(" ms; inside Granda.invoke (its first to last clock reading) ").append(ms3(inGranda))
                .append(" ms, of which run (instance acquired to its answer read, HotConnection.exchange) ")
                .append(ms3(run)).append(" ms; so HTTP in and out (Helidon, InvokeService, loopback TCP, the")
                .append(" client) ≈ ").append(ms3(d.p50Millis() - inGranda)).append(" ms and Granda.invoke")
                .append(" outside the exchange ≈ ").append(ms3(inGranda - run)).append(" ms. (e) direct: ")
                .append(ms3(e.p50Millis())).append(" ms.\n");
    }

    private static long micros(Instant from, Instant to) {
        return ChronoUnit.MICROS.between(from, to);
    }

    private static double median(List<InvocationRecord> records, ToLongFunction<InvocationRecord> value) {
        Samples s = new Samples(records.size());
        for (InvocationRecord r : records) {
            s.add(value.applyAsLong(r));
        }
        return s.percentile(50);
    }

    private static long gcCount() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    private static long gcMillis() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionTime());
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------------------
    // The report

    private String render(Instant startedAt, String loadAtStart, String loadAtEnd, String dockerVersion, String image,
                          Samples a, Samples b, Samples c, Samples floor, Samples d, Samples e,
                          List<ThroughputRun> throughput, BurstRun burst) {
        StringBuilder r = new StringBuilder();
        r.append("# Granda: side-by-side comparison\n\n");
        r.append("- date: ").append(DateTimeFormatter.ISO_INSTANT.format(startedAt.truncatedTo(ChronoUnit.SECONDS)))
                .append(", took ").append(Duration.between(startedAt, Instant.now()).toSeconds()).append(" s\n");
        r.append("- machine: ").append(Machine.hardware()).append("; ").append(Machine.system()).append('\n');
        r.append("- Docker ").append(dockerVersion).append("; ").append(Machine.java()).append('\n');
        r.append("- load average (1/5/15 min): ").append(loadAtStart).append(" at start, ").append(loadAtEnd)
                .append(" at end\n");
        r.append("- function: image `").append(image).append("`, payload `hello` (5 bytes), memory 128 MiB, echoed back\n\n");

        double dp50 = d.p50Millis();
        double ep50 = e.p50Millis();
        r.append("| | what | samples | p50 ms | p99 ms | p50 ÷ (e) | p50 ÷ (d) |\n");
        r.append("|---|---|---:|---:|---:|---:|---:|\n");
        row(r, "(a)", "`docker run --rm` of the image (CLI)", a, ep50, dp50);
        row(r, "(b)", "Granda run mode, one container per call, via URL", b, ep50, dp50);
        row(r, "(c)", "Granda cold: hot mode, no instance yet, via URL", c, ep50, dp50);
        row(r, "floor (c)", "engine: docker-java create + start + socket accepts + 1 reply", floor, ep50, dp50);
        row(r, "(d)", "Granda warm, via URL", d, ep50, dp50);
        row(r, "(e)", "the same warm process, direct on its unix socket", e, ep50, dp50);
        r.append('\n');

        r.append("Throughput of (d): ").append(settings.throughputInstances).append(" prewarmed instances × concurrency ")
                .append(settings.concurrency).append(", each caller a keep-alive connection calling back to back, ")
                .append(settings.throughputWarmup).append(" s warm-up then ").append(settings.throughputSeconds)
                .append(" s measured.\n\n");
        r.append("| callers | calls/s | calls | errors | p50 ms | p99 ms |\n|---:|---:|---:|---:|---:|---:|\n");
        for (ThroughputRun t : throughput) {
            r.append("| ").append(t.callers()).append(" | ").append(String.format(Locale.ROOT, "%,.0f", t.callsPerSecond()))
                    .append(" | ").append(t.calls()).append(" | ").append(t.errors()).append(" | ")
                    .append(ms3(t.latency().p50Millis())).append(" | ").append(ms3(t.latency().p99Millis()))
                    .append(" |\n");
        }
        r.append('\n');

        r.append("Burst: ").append(burst.callers()).append(" simultaneous first calls right after an update (revision 1")
                .append(" had one warm instance), maxInstances ").append(burst.maxInstances()).append(", concurrency 1: ")
                .append(burst.answered()).append('/').append(burst.callers()).append(" answered 200, ")
                .append(burst.correct()).append(" with the right body and revision, ").append(burst.stale())
                .append(" stale; all answered after ").append(ms(burst.allAnsweredMillis())).append(" ms (p50 ")
                .append(ms(burst.latency().p50Millis())).append(" ms), by ").append(burst.distinctInstances())
                .append(" instance(s): the first ready ones drain the queue. The pool started ")
                .append(burst.instancesReached()).append(" instances (all ").append(burst.instancesReached())
                .append(" within ").append(ms(burst.limitReachedMillis())).append(" ms); ")
                .append(burst.instancesReady()).append(" were ready after ").append(ms(burst.allReadyMillis()))
                .append(" ms");
        if (burst.firstProblem() != null) {
            r.append("; first problem: ").append(burst.firstProblem());
        }
        r.append(".\n\n");

        double overhead = dp50 - ep50;
        double t64 = throughput.stream().filter(t -> t.callers() == 64).mapToDouble(ThroughputRun::callsPerSecond)
                .findFirst().orElse(Double.NaN);
        double coldRatio = c.p50Millis() / floor.p50Millis();
        double speedup = b.p50Millis() / dp50;
        r.append("| target | figure | result |\n|---|---|---|\n");
        target(r, "(d) − (e) at p50 ≤ " + MAX_WARM_OVERHEAD_MS + " ms", ms3(overhead) + " ms ((d) " + ms3(dp50)
                + ", (e) " + ms3(ep50) + ")", overhead <= MAX_WARM_OVERHEAD_MS);
        target(r, "(d) with 64 callers ≥ " + String.format(Locale.ROOT, "%,.0f", MIN_THROUGHPUT_64) + " calls/s",
                String.format(Locale.ROOT, "%,.0f calls/s", t64), t64 >= MIN_THROUGHPUT_64);
        target(r, "(c) ≤ " + MAX_COLD_OVER_FLOOR + " × engine floor, p50", String.format(Locale.ROOT, "%.2f×", coldRatio)
                + " ((c) " + ms(c.p50Millis()) + ", floor " + ms(floor.p50Millis()) + ")", coldRatio <= MAX_COLD_OVER_FLOOR);
        target(r, "(d) ≥ " + (int) MIN_WARM_SPEEDUP + "× faster than (b), p50", String.format(Locale.ROOT, "%,.0f×", speedup)
                + " ((b) " + ms(b.p50Millis()) + ", (d) " + ms3(dp50) + ")", speedup >= MIN_WARM_SPEEDUP);
        target(r, "burst: all " + burst.callers() + " correct, pool grows to " + burst.maxInstances() + ", none stale",
                burst.correct() + "/" + burst.callers() + " correct, " + burst.instancesReached() + " instances, "
                        + burst.stale() + " stale, " + ms(burst.allAnsweredMillis()) + " ms", burst.passed());
        r.append(notes);
        return r.toString();
    }

    private static void row(StringBuilder r, String id, String what, Samples s, double ep50, double dp50) {
        double p50 = s.p50Millis();
        r.append("| ").append(id).append(" | ").append(what).append(" | ").append(s.count()).append(" | ")
                .append(p50 < 10 ? ms3(p50) : ms(p50)).append(" | ")
                .append(s.p99Millis() < 10 ? ms3(s.p99Millis()) : ms(s.p99Millis())).append(" | ")
                .append(ratio(p50 / ep50)).append(" | ").append(ratio(p50 / dp50)).append(" |\n");
    }

    private static void target(StringBuilder r, String target, String figure, boolean pass) {
        r.append("| ").append(target).append(" | ").append(figure).append(" | ").append(pass ? "PASS" : "**FAIL**")
                .append(" |\n");
    }

    private static String ratio(double x) {
        return x >= 100 ? String.format(Locale.ROOT, "%,.0f×", x) : String.format(Locale.ROOT, "%.2f×", x);
    }

    private static String ms(double millis) {
        return String.format(Locale.ROOT, "%.1f", millis);
    }

    private static String ms3(double millis) {
        return String.format(Locale.ROOT, "%.3f", millis);
    }
}
