package io.granda.bench;

import io.granda.core.DeployedFunction;
import io.granda.core.ScalingPolicy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Cold start: one call through the function's URL when the hot function has no instance, so Granda creates and
 * starts a container, waits for its socket and forwards the call ({@link #granda}); and the engine floor under it,
 * the same container made and called with docker-java alone ({@link #engineFloor}, see {@link EngineFloor}).
 *
 * <p>Each iteration is one call (single-shot). Before it, the function is made cold: updated to a new revision so
 * that its idle instance goes, then the bench waits until Granda lists no instance and the engine holds no
 * container of it. After it, the answer is checked (the echo, {@code X-Granda-Cold: true}, and the instance's own
 * {@code X-Echo-Revision} equal to the new revision).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 20)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ColdStartBenchmark {

    /** A server with one hot function (maxInstances 1), made cold before each iteration. */
    @State(Scope.Benchmark)
    public static class ColdFunction {
        BenchServer server;
        DeployedFunction function;
        MiniHttpClient client;

        @Setup(Level.Trial)
        public void start() throws IOException {
            server = BenchServer.start();
            function = server.deployHot("cold", ScalingPolicy.DEFAULT.withMaxInstances(1));
            client = server.viaUrl(function).connect();
        }

        @Setup(Level.Iteration)
        public void makeCold() {
            function = server.makeCold(function);
        }

        @TearDown(Level.Iteration)
        public void check() {
            String revision = Long.toString(function.revision());
            if (client.status() != 200 || !client.bodyEquals(BenchServer.PAYLOAD)
                    || !"true".equals(client.header("X-Granda-Cold"))
                    || !revision.equals(client.header("X-Echo-Revision"))) {
                throw new IllegalStateException("cold call: status " + client.status() + ", cold "
                        + client.header("X-Granda-Cold") + ", X-Echo-Revision " + client.header("X-Echo-Revision")
                        + " (expected " + revision + ")");
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (client != null) {
                client.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    /** The engine alone: containers made like Granda's hot instances, removed after each iteration. */
    @State(Scope.Benchmark)
    public static class Engine {
        DockerEngine engine;
        Path directory;
        EngineFloor floor;

        @Setup(Level.Trial)
        public void start() {
            engine = DockerEngine.connect();
            directory = ScratchDirectory.create("granda-floor-");
            floor = new EngineFloor(engine, directory, "bench-floor-" + UUID.randomUUID().toString().substring(0, 8),
                    BenchServer.image(), 128, BenchServer.PAYLOAD);
        }

        @TearDown(Level.Iteration)
        public void remove() {
            floor.removeStarted();
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (floor != null) {
                floor.close();
            }
            if (engine != null) {
                engine.close();
            }
            ScratchDirectory.deleteQuietly(directory);
        }
    }

    /** (c): a call through the URL that finds no instance. */
    @Benchmark
    public int granda(ColdFunction f) throws IOException {
        return f.client.call();
    }

    /** The floor under (c): create + start + socket accepts + one request/reply, with docker-java. */
    @Benchmark
    public long engineFloor(Engine e) {
        return e.floor.startAndCall();
    }
}
