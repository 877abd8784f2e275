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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Warm throughput through the function's URL with 1, 8 and 64 callers, each on its own keep-alive connection,
 * calling back to back (closed loop). The function has {@value #INSTANCES} prewarmed instances taking
 * {@value #CONCURRENCY} calls each, so 64 callers never wait for an instance: what limits them is Granda (and, on a
 * small machine, sharing the CPUs with the callers). Every answer is checked.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 8, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class WarmThroughputBenchmark {

    /** Prewarmed instances of the function. */
    static final int INSTANCES = 8;
    /** Calls one instance takes at once. */
    static final int CONCURRENCY = 8;

    /** The server and its function, shared by all callers. */
    @State(Scope.Benchmark)
    public static class Platform {
        BenchServer server;
        DeployedFunction function;

        @Setup(Level.Trial)
        public void start() {
            server = BenchServer.start();
            function = server.deployHot("throughput",
                    new ScalingPolicy(Duration.ofMinutes(10), INSTANCES, INSTANCES, CONCURRENCY));
            server.awaitReady(function.name(), INSTANCES);
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (server != null) {
                server.close();
            }
        }
    }

    /** One caller's connection. */
    @State(Scope.Thread)
    public static class Caller {
        MiniHttpClient client;

        @Setup(Level.Trial)
        public void connect(Platform platform) throws IOException {
            client = platform.server.viaUrl(platform.function).connect();
        }

        @TearDown(Level.Trial)
        public void close() {
            if (client != null) {
                client.close();
            }
        }
    }

    @Benchmark
    @Threads(1)
    public int callers1(Caller c) throws IOException {
        return WarmLatencyBenchmark.checked(c.client);
    }

    @Benchmark
    @Threads(8)
    public int callers8(Caller c) throws IOException {
        return WarmLatencyBenchmark.checked(c.client);
    }

    @Benchmark
    @Threads(64)
    public int callers64(Caller c) throws IOException {
        return WarmLatencyBenchmark.checked(c.client);
    }
}
