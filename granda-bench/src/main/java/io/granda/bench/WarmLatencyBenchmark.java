package io.granda.bench;

import io.granda.core.DeployedFunction;
import io.granda.core.InstanceInfo;
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
import java.util.concurrent.TimeUnit;

/**
 * Warm latency, one caller: a call through the function's URL when its instance is idle ({@link #granda}, (d)), and
 * the same process called straight on its unix socket ({@link #direct}, (e), the floor). Both use
 * {@link MiniHttpClient} on a keep-alive connection, so their difference is what Granda adds. Every answer is checked.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Threads(1)
@State(Scope.Benchmark)
public class WarmLatencyBenchmark {

    BenchServer server;
    MiniHttpClient viaUrl;
    MiniHttpClient direct;

    @Setup(Level.Trial)
    public void start() throws IOException {
        server = BenchServer.start();
        DeployedFunction f = server.deployHot("warm", ScalingPolicy.DEFAULT.withMaxInstances(1));
        viaUrl = server.viaUrl(f).connect();
        viaUrl.call();
        InstanceInfo instance = server.awaitReady(f.name(), 1).getFirst();
        direct = server.direct(instance.id()).connect();
    }

    @TearDown(Level.Trial)
    public void stop() {
        if (viaUrl != null) {
            viaUrl.close();
        }
        if (direct != null) {
            direct.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** (d): through Granda's URL. */
    @Benchmark
    public int granda() throws IOException {
        return checked(viaUrl);
    }

    /** (e): the same process, on its socket. */
    @Benchmark
    public int direct() throws IOException {
        return checked(direct);
    }

    static int checked(MiniHttpClient client) throws IOException {
        int status = client.call();
        if (status != 200 || !client.bodyEquals(BenchServer.PAYLOAD)) {
            throw new IllegalStateException(client + " answered " + status + ": " + client.body());
        }
        return status;
    }
}
