package io.granda.bench;

import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.InstanceInfo;
import io.granda.core.ScalingPolicy;
import io.granda.server.GrandaServer;
import io.granda.server.ServerConfig;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A whole Granda server (SQLite store, Docker backend, HTTP on an ephemeral loopback port) started in this JVM for a
 * benchmark, with what the benchmarks need around it: deploying the hot echo function, clients of its URL and of an
 * instance's socket, making a function cold, and waiting until the engine has really removed what a step left.
 *
 * <p>Each server has its own owner id and a scratch data directory under {@code /tmp}; {@link #close()} (also run
 * by a shutdown hook, for Ctrl-C) stops the server, which removes its containers, then removes any container still
 * labelled with the owner id and deletes the directory. Thread-safe.
 */
public final class BenchServer implements AutoCloseable {

    /** The image the benchmarks use, built by {@code scripts/build-images.sh hot-echo}. */
    public static final String DEFAULT_IMAGE = "granda-hot-echo:latest";
    /** What every benchmark call sends; the echo function answers it back. */
    public static final byte[] PAYLOAD = "hello".getBytes(StandardCharsets.US_ASCII);
    private static final Duration WAIT = Duration.ofSeconds(60);

    static {
        // Helidon logs through java.util.logging: send it to the bench's log file too, as granda-server's Main does.
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
    }

    private final Path dataDir;
    private final String ownerId;
    private final GrandaServer server;
    private final DockerEngine engine;
    private final Thread shutdownHook;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Map<String, Long> generations = new HashMap<>();

    private BenchServer(Path dataDir, String ownerId, GrandaServer server, DockerEngine engine) {
        this.dataDir = dataDir;
        this.ownerId = ownerId;
        this.server = server;
        this.engine = engine;
        this.shutdownHook = Thread.ofPlatform().name("granda-bench-cleanup").unstarted(this::stop);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** @return the image benchmarks run: {@code -Dgranda.bench.image}, else {@value #DEFAULT_IMAGE} */
    public static String image() {
        return System.getProperty("granda.bench.image", DEFAULT_IMAGE);
    }

    /**
     * Starts a server, as {@code granda-server.jar} would with {@code --port 0 --host 127.0.0.1}.
     *
     * @param extraArgs more server flags, e.g. {@code --max-instances 200}
     * @throws IllegalStateException when the image is missing (the message says how to build it)
     */
    public static BenchServer start(String... extraArgs) {
        return start(UnaryOperator.identity(), extraArgs);
    }

    /**
     * Starts a server whose platform is adjusted in code, e.g. with another metering store.
     *
     * @param customize applied to the platform's builder last
     * @param extraArgs more server flags
     */
    public static BenchServer start(UnaryOperator<Granda.Builder> customize, String... extraArgs) {
        DockerEngine engine = DockerEngine.connect();
        if (!engine.hasImage(image())) {
            engine.close();
            throw new IllegalStateException("image " + image() + " is missing: build it with"
                    + " scripts/build-images.sh hot-echo (./granda bench does)");
        }
        Path dataDir = ScratchDirectory.create("granda-bench-");
        String ownerId = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        // A key of its own, so that the server does not generate and print one: benchmarks call the API in code.
        String adminKey = io.granda.core.access.ApiKeyTokens.newToken(io.granda.core.access.ApiKeyTokens.newKeyId());
        String[] base = {"--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir.toString(), "--owner-id", ownerId,
                "--admin-key", adminKey};
        String[] args = new String[base.length + extraArgs.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extraArgs, 0, args, base.length, extraArgs.length);
        GrandaServer server;
        try {
            server = GrandaServer.start(ServerConfig.from(args, Map.of()), customize);
        } catch (RuntimeException e) {
            engine.close();
            ScratchDirectory.deleteQuietly(dataDir);
            throw e;
        }
        return new BenchServer(dataDir, ownerId, server, engine);
    }

    /** @return the platform */
    public Granda granda() {
        return server.granda();
    }

    /** @return the HTTP port on 127.0.0.1 */
    public int port() {
        return server.port();
    }

    /** @return the owner id labelling this server's containers */
    public String ownerId() {
        return ownerId;
    }

    /** @return the scratch data directory */
    public Path dataDir() {
        return dataDir;
    }

    /** @return the bench's own engine client */
    public DockerEngine engine() {
        return engine;
    }

    /** Deploys the echo image as a hot function. */
    public DeployedFunction deployHot(String name, ScalingPolicy scaling) {
        return granda().deploy(FunctionSpec.builder(name).image(image()).mode(ExecutionMode.HOT)
                .timeout(Duration.ofSeconds(10)).scaling(scaling).build());
    }

    /** Deploys the echo image as a run-mode function (one container per call, the original contract). */
    public DeployedFunction deployRun(String name) {
        return granda().deploy(FunctionSpec.builder(name).image(image()).mode(ExecutionMode.RUN)
                .timeout(Duration.ofSeconds(10)).build());
    }

    /** @return a client that POSTs {@link #PAYLOAD} to the function's URL over TCP loopback */
    public MiniHttpClient viaUrl(DeployedFunction f) {
        return MiniHttpClient.tcp("127.0.0.1", port())
                .request("POST", "/f/" + f.routeId(), "127.0.0.1:" + port(), PAYLOAD);
    }

    /** @return a client that POSTs {@link #PAYLOAD} straight to an instance's unix socket, bypassing Granda */
    public MiniHttpClient direct(String instanceId) {
        return MiniHttpClient.unix(socketOf(instanceId)).request("POST", "/", "granda", PAYLOAD);
    }

    /** @return where Granda put an instance's socket: {@code <data-dir>/run/<instanceId>/fn.sock} */
    public Path socketOf(String instanceId) {
        return dataDir.resolve("run").resolve(instanceId).resolve("fn.sock");
    }

    /** @return the function's instances now */
    public List<InstanceInfo> instances(String name) {
        return granda().instances(name);
    }

    /**
     * Waits until the function has at least {@code count} ready (idle) instances of its current revision.
     *
     * @return them
     */
    public List<InstanceInfo> awaitReady(String name, int count) {
        long revision = granda().function(name).orElseThrow().revision();
        Supplier<List<InstanceInfo>> ready = () -> instances(name).stream()
                .filter(i -> i.revision() == revision && i.state().equals("READY")).toList();
        await(count + " ready instances of " + name, () -> ready.get().size() >= count);
        return ready.get();
    }

    /**
     * Makes a hot function cold: updates it to a new revision (its environment gets a new
     * {@code BENCH_GENERATION}), so its idle instances go, then waits until Granda lists none and the engine has
     * removed their containers.
     *
     * @return the new revision
     */
    public DeployedFunction makeCold(DeployedFunction f) {
        long generation = generations.merge(f.name(), 1L, Long::sum);
        Map<String, String> env = new HashMap<>(f.spec().env());
        env.put("BENCH_GENERATION", Long.toString(generation));
        DeployedFunction updated = granda().update(f.spec().toBuilder().env(env).build());
        awaitNoInstance(f.name());
        return updated;
    }

    /** Waits until Granda lists no instance of the function and the engine holds no container of it. */
    public void awaitNoInstance(String name) {
        await("no instance of " + name, () -> instances(name).isEmpty()
                && engine.containers(Map.of(DockerEngine.LABEL_OWNER, ownerId, DockerEngine.LABEL_FUNCTION, name))
                .isEmpty());
    }

    /** Deletes a function and waits until the engine holds no container of it. */
    public void delete(String name) {
        granda().delete(name);
        await("containers of " + name + " removed", () -> engine.containers(
                Map.of(DockerEngine.LABEL_OWNER, ownerId, DockerEngine.LABEL_FUNCTION, name)).isEmpty());
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not within " + WAIT.toSeconds() + " s: " + what);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
    }

    /** Stops the server, removes every container it or the bench left, deletes the data directory. Idempotent. */
    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // Called from the hook itself.
        }
    }

    private void stop() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } finally {
            try {
                engine.removeAll(Map.of(DockerEngine.LABEL_OWNER, ownerId));
            } catch (RuntimeException e) {
                System.err.println("granda-bench: could not remove containers labelled " + DockerEngine.LABEL_OWNER
                        + "=" + ownerId + ": " + e.getMessage());
            }
            engine.close();
            ScratchDirectory.deleteQuietly(dataDir);
        }
    }
}
