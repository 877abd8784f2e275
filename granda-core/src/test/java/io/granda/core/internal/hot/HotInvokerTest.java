package io.granda.core.internal.hot;

import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionSpec;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.core.PoolOptions;
import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.HotInstance;
import io.granda.core.spi.InstanceSpec;
import io.granda.core.spi.PreparedImage;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot invoker against real unix sockets: each "instance" is a {@link FakeHotServer} started by a small backend,
 * so every way an instance can answer (or not) reaches the invoker exactly as it would from a container.
 */
class HotInvokerTest {

    @TempDir
    Path dir;

    private SocketBackend backend;
    private WarmPool pool;
    private HotInvoker invoker;
    private final AtomicReference<FakeHotServer.Script> script = new AtomicReference<>(FakeHotServer.echo());

    /** Starts a FakeHotServer per instance, running whatever script is current. */
    private final class SocketBackend implements Backend {
        final Map<String, FakeHotServer> servers = new ConcurrentHashMap<>();
        final List<String> destroyed = new CopyOnWriteArrayList<>();
        final AtomicInteger starts = new AtomicInteger();
        /** What {@link #killedForMemory} answers, and how often it was asked. */
        volatile boolean outOfMemory;
        final AtomicInteger memoryVerdicts = new AtomicInteger();

        @Override
        public String name() {
            return "sockets";
        }

        @Override
        public Set<BackendCapability> capabilities() {
            return EnumSet.of(BackendCapability.HOT_INSTANCES);
        }

        @Override
        public PreparedImage prepare(String image) {
            return new PreparedImage(image, "id", false, Duration.ZERO);
        }

        @Override
        public RunOnceResult runOnce(RunOnceRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HotInstance startInstance(InstanceSpec spec) {
            try {
                Path instanceDir = Files.createDirectories(dir.resolve(spec.instanceId()));
                FakeHotServer.Script current = script.get();
                FakeHotServer server = FakeHotServer.start(instanceDir, peer -> current.serve(peer));
                servers.put(spec.instanceId(), server);
                starts.incrementAndGet();
                return new HotInstance(spec.instanceId(), "fake", server.socket(), Duration.ZERO,
                        Duration.ofMillis(3), Duration.ofMillis(1));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void destroyInstance(HotInstance instance) {
            destroyed.add(instance.instanceId());
            kill(instance.instanceId());
        }

        void kill(String instanceId) {
            FakeHotServer server = servers.remove(instanceId);
            if (server != null) {
                try {
                    server.close();
                } catch (Exception ignored) {
                    // Scripts that end with an IOException are part of these tests.
                }
            }
        }

        @Override
        public String logTail(HotInstance instance, int maxBytes) {
            return "fake log of " + instance.instanceId();
        }

        @Override
        public boolean killedForMemory(HotInstance instance) {
            memoryVerdicts.incrementAndGet();
            // The verdict comes before the instance is removed, while the backend can still look at it.
            assertFalse(destroyed.contains(instance.instanceId()), "asked about a removed instance");
            return outOfMemory;
        }

        @Override
        public int reapLeftovers() {
            return 0;
        }

        @Override
        public ComponentHealth health() {
            return new ComponentHealth(true, "fake");
        }

        @Override
        public void close() {
            List.copyOf(servers.keySet()).forEach(this::kill);
        }
    }

    @BeforeEach
    void start() {
        backend = new SocketBackend();
        pool = new WarmPool(backend, new MutableClock(Instant.parse("2026-01-01T00:00:00Z")),
                PoolOptions.DEFAULTS.withMaintenancePeriod(Duration.ofHours(1)), HotInvoker::closeConnections);
        invoker = new HotInvoker(pool, backend, java.time.Clock.systemUTC(), 1024 * 1024, 4096);
    }

    @AfterEach
    void stop() {
        pool.close();
        backend.close();
    }

    private static DeployedFunction function(Duration timeout) {
        FunctionSpec spec = FunctionSpec.builder("fn").image("img").mode(ExecutionMode.HOT).timeout(timeout).build();
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        return new DeployedFunction("fid", "fn", 1, "fn-route", spec, t, t);
    }

    private InvocationResult call(DeployedFunction f, InvocationRequest request) {
        return invoker.invoke("inv-" + System.nanoTime(), f, request);
    }

    private static String text(InvocationResult r) {
        return new String(r.output(), StandardCharsets.UTF_8);
    }

    private static FakeHotServer.Script answering(String response) {
        return peer -> {
            while (peer.readRequest() != null) {
                peer.write(response);
            }
        };
    }

    @Test
    void aCallBecomesOneRequestAndTheAnswerComesBackAsSent() {
        List<FakeHotServer.Received> seen = new CopyOnWriteArrayList<>();
        script.set(peer -> {
            FakeHotServer.Received r;
            while ((r = peer.readRequest()) != null) {
                seen.add(r);
                peer.write("HTTP/1.1 201 Created\r\nX-Mine: yes\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        InvocationRequest request = new InvocationRequest("PUT", "/a%20b/c", "x=1",
                Map.of("X-Custom", List.of("v1", "v2"), "Host", List.of("evil"), "Connection", List.of("close"),
                        "Granda-Call-Id", List.of("forged")),
                "body".getBytes(StandardCharsets.UTF_8));
        InvocationResult r = invoker.invoke("the-call", function(Duration.ofSeconds(5)), request);

        assertEquals(Outcome.SUCCESS, r.outcome());
        assertEquals(201, r.httpStatus());
        assertEquals("ok", text(r));
        assertEquals(List.of("yes"), r.headers().get("X-Mine"));
        assertTrue(r.cold());
        FakeHotServer.Received got = seen.getFirst();
        assertEquals("PUT", got.method());
        assertEquals("/a%20b/c?x=1", got.target());
        assertEquals("body", new String(got.body(), StandardCharsets.UTF_8));
        List<String> custom = new ArrayList<>();
        List<String> hosts = new ArrayList<>();
        List<String> callIds = new ArrayList<>();
        boolean connectionHeader = false;
        for (var h : got.headers()) {
            switch (h.name().toLowerCase(java.util.Locale.ROOT)) {
                case "x-custom" -> custom.add(h.value());
                case "host" -> hosts.add(h.value());
                case "granda-call-id" -> callIds.add(h.value());
                case "connection" -> connectionHeader = true;
                default -> { }
            }
        }
        assertEquals(List.of("v1", "v2"), custom);
        assertEquals(List.of("granda"), hosts, "the caller's Host is not forwarded");
        assertEquals(List.of("the-call"), callIds, "Granda's call id, never the caller's forged one");
        assertFalse(connectionHeader, "hop-by-hop headers are not forwarded");
        assertTrue(got.headers().stream().anyMatch(h -> h.name().equals("Granda-Timeout-Ms") && h.value().equals("5000")));
        assertTrue(got.headers().stream().anyMatch(h -> h.name().equals("Granda-Revision") && h.value().equals("1")));
    }

    @Test
    void theSecondCallIsWarmOnTheSameConnection() {
        DeployedFunction f = function(Duration.ofSeconds(5));
        assertTrue(call(f, InvocationRequest.of("a")).cold());
        InvocationResult second = call(f, InvocationRequest.of("b"));
        assertFalse(second.cold());
        assertEquals("b", text(second));
        assertEquals(1, backend.starts.get());
        assertEquals(1, backend.servers.values().iterator().next().connections(), "the connection was kept");
    }

    @Test
    void aServerErrorIsAFunctionErrorButTheInstanceIsKept() {
        script.set(answering("HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy"));
        DeployedFunction f = function(Duration.ofSeconds(5));
        InvocationResult r = call(f, InvocationRequest.of("x"));
        assertEquals(Outcome.FUNCTION_ERROR, r.outcome());
        assertEquals(503, r.httpStatus());
        assertEquals("busy", text(r));
        call(f, InvocationRequest.of("y"));
        assertEquals(1, backend.starts.get());
        assertTrue(backend.destroyed.isEmpty());
    }

    @Test
    void aCrashIsAFunctionErrorWithTheInstanceLogAndTheInstanceGoes() throws Exception {
        script.set(peer -> {
            peer.readRequest();
            peer.close();
        });
        InvocationResult r = call(function(Duration.ofSeconds(5)), InvocationRequest.of("x"));
        assertEquals(Outcome.FUNCTION_ERROR, r.outcome());
        assertEquals(0, r.httpStatus());
        assertTrue(r.logTail().contains("closed the connection"), r.logTail());
        assertTrue(r.logTail().contains("fake log of"), r.logTail());
        assertEquals(1, backend.memoryVerdicts.get(), "a crash asks whether it was the memory limit");
        awaitDestroyed(1);
    }

    @Test
    void aCrashTheBackendSaysWasTheMemoryLimitIsOutOfMemoryAndTheInstanceGoes() throws Exception {
        script.set(peer -> {
            peer.readRequest();
            peer.close();
        });
        backend.outOfMemory = true;
        InvocationResult r = call(function(Duration.ofSeconds(5)), InvocationRequest.of("x"));
        assertEquals(Outcome.OUT_OF_MEMORY, r.outcome());
        assertEquals(0, r.httpStatus());
        assertTrue(r.logTail().contains("killed for exceeding its memory limit of 128 MiB"), r.logTail());
        assertTrue(r.logTail().contains("fake log of"), r.logTail());
        assertEquals(1, backend.memoryVerdicts.get());
        awaitDestroyed(1);
    }

    @Test
    void onlyACrashAsksTheBackendAboutMemory() {
        DeployedFunction f = function(Duration.ofSeconds(5));
        assertEquals(Outcome.SUCCESS, call(f, InvocationRequest.of("a")).outcome());
        script.set(answering("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"));
        backend.kill(backend.servers.keySet().iterator().next());
        assertEquals(Outcome.FUNCTION_ERROR, call(f, InvocationRequest.of("b")).outcome());
        assertEquals(0, backend.memoryVerdicts.get(), "answers and an instance found dead before the call cost no look");
    }

    @Test
    void garbageIsAFunctionErrorAndTheInstanceGoes() throws Exception {
        script.set(answering("this is not http\r\n\r\n"));
        InvocationResult r = call(function(Duration.ofSeconds(5)), InvocationRequest.of("x"));
        assertEquals(Outcome.FUNCTION_ERROR, r.outcome());
        assertTrue(r.logTail().contains("not valid HTTP/1.1"), r.logTail());
        awaitDestroyed(1);
    }

    @Test
    void aCallPastItsTimeoutTimesOutAndTheInstanceGoes() throws Exception {
        script.set(peer -> {
            peer.readRequest();
            peer.stallUntilClientCloses();
        });
        InvocationResult r = call(function(Duration.ofMillis(200)), InvocationRequest.of("x"));
        assertEquals(Outcome.TIMEOUT, r.outcome());
        awaitDestroyed(1);
    }

    @Test
    void anInstanceThatDiedWhileIdleDoesNotFailTheNextCall() throws Exception {
        DeployedFunction f = function(Duration.ofSeconds(5));
        call(f, InvocationRequest.of("first"));
        String firstInstance = backend.servers.keySet().iterator().next();
        // The process dies while idle: its kept connection is closed and its socket is gone. The next call finds
        // the connection dead, cannot reconnect, and moves on to a new instance.
        backend.kill(firstInstance);
        InvocationResult r = call(f, InvocationRequest.of("second"));
        assertEquals(Outcome.SUCCESS, r.outcome(), r.logTail());
        assertEquals("second", text(r));
        assertEquals(2, backend.starts.get());
        awaitDestroyed(1);
        assertEquals(firstInstance, backend.destroyed.getFirst());
    }

    @Test
    void anIdleConnectionClosedByTheFunctionIsRetriedOnceOnANewConnection() {
        AtomicInteger requests = new AtomicInteger();
        // Like an HTTP server with an idle timeout: answers, then drops the connection without saying so.
        script.set(peer -> {
            if (peer.readRequest() != null) {
                requests.incrementAndGet();
                peer.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                peer.close();
            }
        });
        DeployedFunction f = function(Duration.ofSeconds(5));
        assertEquals(Outcome.SUCCESS, call(f, InvocationRequest.of("a")).outcome());
        InvocationResult second = call(f, InvocationRequest.of("b"));
        assertEquals(Outcome.SUCCESS, second.outcome(), second.logTail());
        assertEquals(2, requests.get(), "each call ran exactly once");
        assertEquals(1, backend.starts.get(), "the instance was kept");
        assertNotEquals(0, backend.servers.values().iterator().next().connections());
    }

    private void awaitDestroyed(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (backend.destroyed.size() < n) {
            assertTrue(System.nanoTime() < deadline, "instance not destroyed");
            Thread.sleep(5);
        }
    }
}
