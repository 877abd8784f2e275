package io.granda.testkit;

import io.granda.core.BackendUnavailableException;
import io.granda.core.FunctionNotReadyException;
import io.granda.core.Ids;
import io.granda.core.ImageUnavailableException;
import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.HotInstance;
import io.granda.core.spi.InstanceSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The compatibility suite every {@link Backend} with {@link BackendCapability#HOT_INSTANCES} must pass: the hot
 * instance contract of docs/hot-functions.md as a backend sees it (start, readiness, the socket, the environment,
 * failures to start, removal, reaping). An implementation's test extends this class and supplies a fresh backend per
 * test ({@link #createBackend()}) and the name of the <em>hot echo image</em> ({@link #hotImage()}) present on it.
 *
 * <p>The hot echo image is Granda's {@code granda-hot-echo:latest} ({@code scripts/build-images.sh hot-echo}): with
 * {@code GRANDA_SOCKET} set it serves HTTP/1.1 keep-alive on that socket, answers 200 with the request's body and
 * {@code X-Echo-Method}, {@code X-Echo-Path}, {@code X-Echo-Query}, {@code X-Echo-Revision} (its GRANDA_REVISION),
 * {@code X-Echo-Instance} (its GRANDA_INSTANCE) and {@code X-Echo-Served} (how many requests it served) headers;
 * {@code /env/NAME} answers the value of the variable NAME (404 when unset), {@code /crash} exits with 3 without
 * answering, {@code /hang} never answers, {@code /hog/<MiB>} allocates and touches that much memory before it
 * answers. {@code HOT_ECHO_NEVER_READY=1} makes it never create its socket,
 * {@code HOT_ECHO_EXIT_AT_START=<code>} makes it print "exiting at start" to stderr and exit, and
 * {@code HOT_ECHO_INIT_MS=<ms>} makes it sleep before it listens.
 *
 * <p>The tests talk to instances with {@link HotSocketClient}, a tiny HTTP/1.1 client of their own, so that nothing
 * of Granda's invoker stands between the backend and what it is judged on.
 *
 * <p>Every backend {@link #createBackend()} returns must have the <em>same</em> owner id, which no other test class
 * shares: the tests call {@link Backend#reapLeftovers()} on it, and on a second backend after closing the first, to
 * prove nothing is left behind. The backend is closed after each test. The suite never pulls from a registry; the
 * only pull it attempts is one that must fail.
 *
 * <p>Timing assertions are generous bounds, and only where the behaviour is about time (a crash noticed before the
 * start timeout, a start timeout honoured); speed belongs to benchmarks.
 */
@Timeout(120)
public abstract class HotBackendContract {

    /** An image reference no registry has, so that its pull fails. */
    protected static final String UNPULLABLE_IMAGE = "granda-no-such-image:1";
    /** The function name of every instance the suite starts (see {@link Spec}). */
    protected static final String FUNCTION_NAME = "hot-contract";

    private Backend backend;

    /** @return a new backend; every one returned has the same owner id, which no other test class shares */
    protected abstract Backend createBackend();

    /** @return the hot echo image described on this class, present on the backend */
    protected abstract String hotImage();

    /** @return the backend under test */
    protected final Backend backend() {
        return backend;
    }

    @BeforeEach
    void createBackendUnderTest() {
        backend = createBackend();
    }

    @AfterEach
    void closeBackendUnderTest() {
        backend.close();
    }

    /** @return a new instance description of the hot echo image: revision 7, 64 MiB, a 10 s start timeout */
    protected final Spec instance() {
        return new Spec(hotImage());
    }

    /** @return a new instance description of another image, otherwise as {@link #instance()} */
    protected final Spec instance(String image) {
        return new Spec(image);
    }

    // ---- a ready instance ----

    @Test
    void capabilitiesIncludeHotInstances() {
        assertTrue(backend.capabilities().contains(BackendCapability.HOT_INSTANCES));
    }

    @Test
    void startedInstanceServesHttpOnItsSocket() throws IOException {
        Spec spec = instance();
        HotInstance hot = spec.start();

        assertEquals(spec.instanceId, hot.instanceId());
        assertTrue(hot.socket().isAbsolute(), hot.socket().toString());
        assertTrue(Files.exists(hot.socket()), "no socket at " + hot.socket());
        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            byte[] body = "{\"status\":\"paid\"}".getBytes(StandardCharsets.UTF_8);
            HotHttpResponse r = client.send("POST", "/orders/42?expand=items",
                    Map.of("Content-Type", "application/json"), body, Duration.ofSeconds(10));

            assertEquals(200, r.status());
            assertEquals("{\"status\":\"paid\"}", r.bodyText());
            assertEquals("POST", r.header("X-Echo-Method"));
            assertEquals("/orders/42", r.header("X-Echo-Path"));
            assertEquals("expand=items", r.header("X-Echo-Query"));
            assertEquals("7", r.header("X-Echo-Revision"));
            assertEquals(spec.instanceId, r.header("X-Echo-Instance"));
        }
    }

    @Test
    void instanceSeesGrandasVariables() throws IOException {
        Spec spec = instance();
        HotInstance hot = spec.start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            assertEquals(FUNCTION_NAME, client.get("/env/GRANDA_FUNCTION").bodyText());
            assertEquals("7", client.get("/env/GRANDA_REVISION").bodyText());
            assertEquals(spec.instanceId, client.get("/env/GRANDA_INSTANCE").bodyText());
            assertEquals("/granda/fn.sock", client.get("/env/GRANDA_SOCKET").bodyText());
        }
    }

    @Test
    void environmentReachesTheInstance() throws IOException {
        HotInstance hot = instance().env("GREETING", "hello hot env").env("SECOND", "2").start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            HotHttpResponse greeting = client.get("/env/GREETING");
            assertEquals(200, greeting.status());
            assertEquals("hello hot env", greeting.bodyText());
            assertEquals("2", client.get("/env/SECOND").bodyText());
            assertEquals(404, client.get("/env/NOT_SET_ANYWHERE").status());
        }
    }

    @Test
    void functionEnvironmentCannotOverrideGrandasVariables() throws IOException {
        Spec spec = instance().env("GRANDA_INSTANCE", "forged").env("GRANDA_SOCKET", "/tmp/elsewhere.sock");
        HotInstance hot = spec.start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            assertEquals(spec.instanceId, client.get("/env/GRANDA_INSTANCE").bodyText());
            assertEquals("/granda/fn.sock", client.get("/env/GRANDA_SOCKET").bodyText());
        }
    }

    @Test
    void oneConnectionServesManyRequests() throws IOException {
        HotInstance hot = instance().start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            int previous = 0;
            for (int i = 0; i < 5; i++) {
                byte[] body = ("call " + i).getBytes(StandardCharsets.UTF_8);
                HotHttpResponse r = client.send("POST", "/n/" + i, Map.of(), body, Duration.ofSeconds(10));
                assertEquals("call " + i, r.bodyText());
                int served = Integer.parseInt(r.header("X-Echo-Served"));
                assertTrue(served > previous, "served " + served + " after " + previous);
                previous = served;
            }
        }
    }

    @Test
    void timingsAreMeasured() {
        HotInstance hot = instance().start();

        assertEquals(Duration.ZERO, hot.imagePull(), "the image was present");
        assertTrue(hot.createStart().compareTo(Duration.ZERO) > 0, "createStart " + hot.createStart());
        assertFalse(hot.init().isNegative(), "init " + hot.init());
    }

    @Test
    void slowInitIsReportedAsInitAndWaitedFor() throws IOException {
        HotInstance hot = instance().env("HOT_ECHO_INIT_MS", "600").start();

        // The process sleeps 600 ms before it listens; part of that may pass before the start call returns.
        assertTrue(hot.init().compareTo(Duration.ofMillis(300)) >= 0, "init " + hot.init());
        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            assertEquals(200, client.get("/").status());
        }
    }

    @Test
    void twoInstancesOfOneFunctionAreIndependent() throws IOException {
        Spec first = instance();
        Spec second = instance();
        HotInstance a = first.start();
        HotInstance b = second.start();

        assertNotEquals(a.socket(), b.socket());
        assertNotEquals(a.backendRef(), b.backendRef());
        try (HotSocketClient ca = HotSocketClient.connect(a.socket());
                HotSocketClient cb = HotSocketClient.connect(b.socket())) {
            assertEquals(first.instanceId, ca.get("/").header("X-Echo-Instance"));
            assertEquals(second.instanceId, cb.get("/").header("X-Echo-Instance"));
        }

        backend.destroyInstance(a);
        try (HotSocketClient cb = HotSocketClient.connect(b.socket())) {
            assertEquals(200, cb.get("/").status(), "destroying one instance touched the other");
        }
    }

    @Test
    void concurrentStartsEachGetTheirOwnInstance() throws Exception {
        int count = 4;
        List<Spec> specs = new ArrayList<>();
        List<Future<HotInstance>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < count; i++) {
                Spec spec = instance();
                specs.add(spec);
                futures.add(pool.submit(spec::start));
            }
            Set<Path> sockets = new HashSet<>();
            for (int i = 0; i < count; i++) {
                HotInstance hot = futures.get(i).get();
                assertTrue(sockets.add(hot.socket()), "socket shared: " + hot.socket());
                try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
                    assertEquals(specs.get(i).instanceId, client.get("/").header("X-Echo-Instance"));
                }
            }
        }
    }

    // ---- instances that do not become ready ----

    @Test
    void imageThatExitsAtStartIsNotReadyLongBeforeTheTimeoutAndLeavesNothing() {
        Spec spec = instance().env("HOT_ECHO_EXIT_AT_START", "3").startTimeout(Duration.ofSeconds(10));

        long started = System.nanoTime();
        FunctionNotReadyException e = assertThrows(FunctionNotReadyException.class, spec::attemptStart);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        // Generous: the point is "noticed when it exited", not "after the 10 s start timeout".
        assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "a crash at start was reported after " + took);
        assertTrue(e.getMessage().contains(FUNCTION_NAME), e.getMessage());
        assertTrue(e.logTail().contains("exiting at start"), "log tail: '" + e.logTail() + "'");
        assertEquals("function_not_ready", e.code());
        assertEquals(0, backend.reapLeftovers(), "the instance that exited was left behind");
    }

    @Test
    void imageThatNeverOpensItsSocketIsNotReadyAfterTheStartTimeoutAndLeavesNothing() {
        Spec spec = instance().env("HOT_ECHO_NEVER_READY", "1").startTimeout(Duration.ofSeconds(1));

        long started = System.nanoTime();
        FunctionNotReadyException e = assertThrows(FunctionNotReadyException.class, spec::attemptStart);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertTrue(took.compareTo(Duration.ofMillis(1000)) >= 0, "gave up after " + took + ", before the timeout");
        assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, "a 1 s start timeout took " + took);
        assertTrue(e.getMessage().contains(FUNCTION_NAME), e.getMessage());
        assertEquals(0, backend.reapLeftovers(), "the instance that never became ready was left behind");
    }

    @Test
    void unpullableImageIsAPlatformErrorAndLeavesNothing() {
        Spec spec = instance(UNPULLABLE_IMAGE);

        ImageUnavailableException e = assertThrows(ImageUnavailableException.class, spec::attemptStart);
        assertTrue(e.getMessage().contains(UNPULLABLE_IMAGE), e.getMessage());
        assertEquals(0, backend.reapLeftovers());
    }

    // ---- removal ----

    @Test
    void destroyRemovesTheInstanceAndIsIdempotent() throws IOException {
        HotInstance hot = instance().start();
        try (HotSocketClient open = HotSocketClient.connect(hot.socket())) {
            assertEquals(200, open.get("/").status());

            backend.destroyInstance(hot);

            assertFalse(Files.exists(hot.socket()), "socket still there: " + hot.socket());
            assertFalse(HotSocketClient.accepts(hot.socket()), "a new connection was accepted");
            assertThrows(IOException.class, () -> open.get("/"), "the open connection still answered");
        }
        assertDoesNotThrow(() -> backend.destroyInstance(hot));
        assertEquals(0, backend.reapLeftovers(), "the destroyed instance was left behind");
    }

    @Test
    void instanceThatCrashesMidRequestClosesTheConnection() throws IOException {
        HotInstance hot = instance().start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            IOException e = assertThrows(IOException.class, () -> client.send("POST", "/crash", Map.of(),
                    "bye".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(20)));
            assertFalse(e instanceof SocketTimeoutException, "no EOF: " + e);
        }
        backend.destroyInstance(hot);
        assertEquals(0, backend.reapLeftovers());
    }

    @Test
    void anInstanceKilledForMemoryIsToldFromOneThatCrashed() throws IOException {
        HotInstance hog = instance().memoryMb(32).start();
        HotInstance crashing = instance().memoryMb(32).start();
        try (HotSocketClient client = HotSocketClient.connect(hog.socket())) {
            assertEquals(200, client.send("POST", "/hog/8", Map.of(), new byte[0], Duration.ofSeconds(20)).status(),
                    "8 MiB fit in 32");
            assertThrows(IOException.class, () -> client.send("POST", "/hog/64", Map.of(), new byte[0],
                    Duration.ofSeconds(20)), "64 MiB in 32 answered");
        }
        try (HotSocketClient client = HotSocketClient.connect(crashing.socket())) {
            assertThrows(IOException.class, () -> client.send("POST", "/crash", Map.of(), new byte[0],
                    Duration.ofSeconds(20)));
        }

        assertTrue(backend.killedForMemory(hog), "the hog was killed for memory");
        assertFalse(backend.killedForMemory(crashing), "the crash was not the memory limit");
        backend.destroyInstance(hog);
        backend.destroyInstance(crashing);
        assertFalse(assertDoesNotThrow(() -> backend.killedForMemory(hog)), "unknown once removed: false");
    }

    @Test
    void instanceDestroyedMidRequestClosesTheConnection() throws Exception {
        HotInstance hot = instance().start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket());
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HotHttpResponse> hanging = pool.submit(() -> client.send("GET", "/hang", Map.of(), new byte[0],
                    Duration.ofSeconds(60)));
            Thread.sleep(300); // the request is under way (a race here only makes the test weaker, never wrong)

            backend.destroyInstance(hot);

            ExecutionException e = assertThrows(ExecutionException.class, () -> hanging.get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IOException && !(e.getCause() instanceof SocketTimeoutException),
                    "expected the end of the connection, got " + e.getCause());
        }
    }

    @Test
    void reapRemovesRunningInstances() {
        HotInstance a = instance().start();
        HotInstance b = instance().start();

        assertEquals(2, backend.reapLeftovers());

        for (HotInstance hot : List.of(a, b)) {
            assertFalse(HotSocketClient.accepts(hot.socket()), "still accepting: " + hot.socket());
            assertFalse(Files.exists(hot.socket()), "socket left: " + hot.socket());
        }
        assertEquals(0, backend.reapLeftovers());
        // The pool may still destroy what was reaped under it.
        assertDoesNotThrow(() -> backend.destroyInstance(a));
    }

    @Test
    void closeRemovesEveryInstance() {
        HotInstance a = instance().start();
        HotInstance b = instance().start();

        backend.close();

        for (HotInstance hot : List.of(a, b)) {
            assertFalse(HotSocketClient.accepts(hot.socket()), "still accepting: " + hot.socket());
            assertFalse(Files.exists(hot.socket()), "socket left: " + hot.socket());
        }
        assertDoesNotThrow(() -> backend.destroyInstance(a));
        assertEquals("", assertDoesNotThrow(() -> backend.logTail(b, 100)));
        try (Backend again = createBackend()) {
            assertEquals(0, again.reapLeftovers(), "close left instances behind");
        }
    }

    @Test
    void aClosedBackendStartsNothing() {
        backend.close();

        assertThrows(BackendUnavailableException.class, () -> instance().attemptStart());
    }

    // ---- logs ----

    @Test
    void logTailIsBoundedAndNeverThrows() {
        HotInstance hot = instance().start();

        String tail = assertDoesNotThrow(() -> backend.logTail(hot, 16));
        assertTrue(tail.getBytes(StandardCharsets.UTF_8).length <= 16, "tail of " + tail.length() + " characters");

        backend.destroyInstance(hot);
        assertDoesNotThrow(() -> backend.logTail(hot, 1024));
    }

    // ---- pause, where declared ----

    @Test
    void pausedInstanceAnswersOnlyAfterResume() throws Exception {
        Assumptions.assumeTrue(backend.capabilities().contains(BackendCapability.PAUSE), "backend cannot pause");
        HotInstance hot = instance().start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            assertEquals(200, client.get("/").status());
            backend.pauseInstance(hot);
            assertThrows(SocketTimeoutException.class, () -> client.send("GET", "/", Map.of(), new byte[0],
                    Duration.ofMillis(300)), "a paused instance answered");
        }
        backend.resumeInstance(hot);
        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            assertEquals(200, client.get("/").status());
        }
    }

    // ---- helpers ----

    /** Fails the test with what the backend logged when a start that should work fails. */
    private static HotInstance started(Backend backend, InstanceSpec spec) {
        try {
            return backend.startInstance(spec);
        } catch (FunctionNotReadyException e) {
            return fail(e.getMessage() + "\nlog tail:\n" + e.logTail(), e);
        }
    }

    /** A hot instance being described; {@link #start()} hands it to the backend under test. Not thread-safe. */
    protected final class Spec {
        /** The id the instance gets: fresh for each description. */
        public final String instanceId = Ids.newTimeOrderedId(Instant.now());
        private final String image;
        private final Map<String, String> env = new HashMap<>();
        private int memoryMb = 64;
        private Duration startTimeout = Duration.ofSeconds(10);

        Spec(String image) {
            this.image = image;
        }

        /** Adds an environment variable. */
        public Spec env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /** Sets the memory limit. */
        public Spec memoryMb(int value) {
            this.memoryMb = value;
            return this;
        }

        /** Sets the start timeout. */
        public Spec startTimeout(Duration value) {
            this.startTimeout = value;
            return this;
        }

        /** @return the spec this describes */
        public InstanceSpec spec() {
            return new InstanceSpec(instanceId, "fn-id-hot-contract", FUNCTION_NAME, 7, image, env, memoryMb,
                    startTimeout);
        }

        /**
         * Starts an instance that should become ready.
         *
         * @return the started instance; a {@link FunctionNotReadyException} fails the test with the instance's log
         *         tail, other exceptions propagate
         */
        public HotInstance start() {
            return started(backend, spec());
        }

        /** @return what the backend under test makes of this spec, exceptions and all */
        public HotInstance attemptStart() {
            return backend.startInstance(spec());
        }
    }
}
