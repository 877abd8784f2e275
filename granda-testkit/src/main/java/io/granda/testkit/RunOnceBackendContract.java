package io.granda.testkit;

import io.granda.core.ImageUnavailableException;
import io.granda.core.InvocationResult;
import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.PreparedImage;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import io.granda.core.spi.RunOnceResult.Termination;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compatibility suite every {@link Backend} with {@link BackendCapability#RUN_ONCE} must pass: the original
 * Granda run-mode contract. An implementation's test extends this class and supplies a fresh backend per test
 * ({@link #createBackend()}) and the name of a <em>script image</em> ({@link #scriptImage()}) present on it.
 *
 * <p>The script image's entry point is {@code ["/bin/sh", "-c", "eval \"$SCRIPT\"", "fn"]} with a POSIX shell and
 * the usual utilities (busybox is enough): the function body is the environment variable {@code SCRIPT}, and the
 * payload is {@code $1} (appended to the entry point as the last argument) and stdin. One image thus plays every
 * function these tests need. Granda builds it as {@code granda-test-busybox:latest} ({@code scripts/build-images.sh}).
 *
 * <p>Give each backend an owner id of its own (e.g. {@code "test-" + random}): the tests call
 * {@link Backend#reapLeftovers()} to prove nothing is left behind, and the backend is closed after each test. The
 * suite never pulls from a registry; the only pull it attempts is one that must fail.
 *
 * <p>Timing assertions are generous upper bounds, and only where the behaviour is about time (timeouts); speed
 * belongs to benchmarks.
 */
@Timeout(120)
public abstract class RunOnceBackendContract {

    /** An image reference no registry has, so that its pull fails. */
    protected static final String UNPULLABLE_IMAGE = "granda-no-such-image:1";

    private Backend backend;

    /** @return a new backend, with an owner id no other test shares */
    protected abstract Backend createBackend();

    /** @return the script image described on this class, present on the backend */
    protected abstract String scriptImage();

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

    /**
     * Starts describing a call of the script image.
     *
     * @param script the function body, a shell script; the payload is {@code $1} and stdin
     * @return a call with a 20 s timeout, 64 MiB, 1 MiB of output and 4 KiB of log, and no payload
     */
    protected final Call script(String script) {
        return new Call(scriptImage(), script);
    }

    // ---- the payload: last argument and stdin ----

    @Test
    void capabilitiesIncludeRunOnce() {
        assertTrue(backend.capabilities().contains(BackendCapability.RUN_ONCE));
    }

    @Test
    void payloadIsTheLastArgumentAsOneArgument() {
        RunOnceResult r = script("printf '%s|%s' \"$#\" \"$1\"").payload("hello granda world").run();

        assertExited(r, 0);
        assertEquals("1|hello granda world", stdout(r));
    }

    @Test
    void payloadIsReadableOnStdinToTheEnd() {
        // cat ends only when stdin ends: a backend that never closes stdin makes this call time out.
        RunOnceResult r = script("cat").payload("from stdin").run();

        assertExited(r, 0);
        assertEquals("from stdin", stdout(r));
    }

    @Test
    void largePayloadArrivesWholeOnStdin() {
        String payload = "0123456789abcdef".repeat(6 * 1024); // 96 KiB, under Linux's 128 KiB limit of one argument
        RunOnceResult r = script("wc -c").payload(payload).run();

        assertExited(r, 0);
        assertEquals(String.valueOf(payload.length()), stdout(r).strip());
    }

    @Test
    void emptyPayloadAddsNoArgumentAndAnEmptyStdin() {
        RunOnceResult r = script("printf 'args=%s stdin=%s' \"$#\" \"$(cat | wc -c | tr -d ' ')\"").run();

        assertExited(r, 0);
        assertEquals("args=0 stdin=0", stdout(r));
    }

    @Test
    void processThatNeverReadsStdinIsNotDisturbedByIt() {
        RunOnceResult r = script("echo ignored stdin").payload("x".repeat(64 * 1024)).run();

        assertExited(r, 0);
        assertEquals("ignored stdin\n", stdout(r));
    }

    @Test
    void processThatReadsPartOfStdinIsNotDisturbedByTheRest() {
        RunOnceResult r = script("head -c 5").payload("12345" + "x".repeat(64 * 1024)).run();

        assertExited(r, 0);
        assertEquals("12345", stdout(r));
    }

    @Test
    void environmentReachesTheProcess() {
        RunOnceResult r = script("printf '%s,%s' \"$GREETING\" \"$SECOND\"")
                .env("GREETING", "hello env").env("SECOND", "2").run();

        assertExited(r, 0);
        assertEquals("hello env,2", stdout(r));
    }

    // ---- status, output and log ----

    @Test
    void nonZeroExitIsAResultWithItsCodeAndLog() {
        RunOnceResult r = script("echo partial; echo 'something broke' >&2; exit 3").run();

        assertExited(r, 3);
        assertEquals("partial\n", stdout(r));
        assertTrue(r.stderrTail().contains("something broke"), r.stderrTail());
    }

    @Test
    void stdoutAndStderrAreKeptApart() {
        RunOnceResult r = script("echo to-out; echo to-err >&2; echo more-out").run();

        assertExited(r, 0);
        assertEquals("to-out\nmore-out\n", stdout(r));
        assertEquals("to-err\n", r.stderrTail());
    }

    @Test
    void stdoutBeyondTheLimitIsCutAndFlagged() {
        RunOnceResult r = script("head -c 200000 /dev/zero | tr '\\0' x").maxOutputBytes(1000).run();

        assertExited(r, 0);
        assertTrue(r.stdoutTruncated());
        assertArrayEquals("x".repeat(1000).getBytes(StandardCharsets.US_ASCII), r.stdout());
    }

    @Test
    void stdoutWithinTheLimitIsWholeAndNotFlagged() {
        RunOnceResult r = script("head -c 1000 /dev/zero | tr '\\0' y").maxOutputBytes(1000).run();

        assertExited(r, 0);
        assertFalse(r.stdoutTruncated());
        assertEquals("y".repeat(1000), stdout(r));
    }

    @Test
    void stderrTailKeepsTheEnd() {
        RunOnceResult r = script("i=0; while [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; exit 1")
                .maxLogBytes(100).run();

        assertExited(r, 1);
        assertTrue(r.stderrTail().length() <= 100, "tail is " + r.stderrTail().length() + " characters");
        assertTrue(r.stderrTail().endsWith("line 1998\nline 1999\n"), r.stderrTail());
        assertFalse(r.stderrTail().contains("line 0\n"), r.stderrTail());
    }

    // ---- limits: time and memory ----

    @Test
    void processRunningPastItsTimeoutIsKilledAndLeavesNothingBehind() {
        long started = System.nanoTime();
        RunOnceResult r = script("echo started; sleep 60").timeout(Duration.ofSeconds(1)).run();
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertEquals(Termination.TIMED_OUT, r.termination());
        assertEquals(InvocationResult.NO_EXIT_CODE, r.exitCode());
        assertAnsweredSoonAfterTimeout(took, r);
        assertEquals(0, backend.reapLeftovers(), "the killed instance was left behind");
    }

    @Test
    void processThatClosesItsOutputButKeepsRunningStillTimesOut() {
        long started = System.nanoTime();
        RunOnceResult r = script("exec >&- 2>&- <&-; sleep 60").timeout(Duration.ofSeconds(1)).run();
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertEquals(Termination.TIMED_OUT, r.termination());
        assertEquals(InvocationResult.NO_EXIT_CODE, r.exitCode());
        assertAnsweredSoonAfterTimeout(took, r);
        assertEquals(0, backend.reapLeftovers(), "the killed instance was left behind");
    }

    @Test
    void memoryHogIsKilledAsOutOfMemory() {
        // dd allocates its 64 MiB block at once; with 16 MiB and no swap the kernel's OOM killer ends it. The short
        // sleep first is deliberate: Docker 20.10's containerd registers its OOM watcher only after the process has
        // started, so an OOM in the very first instants (while the engine is busy) can go unrecorded. Real functions
        // allocate after they start; this test is about the report, not that engine race.
        RunOnceResult r = script("sleep 0.3; dd if=/dev/zero of=/dev/null bs=64M count=1").memoryMb(16).run();

        assertEquals(Termination.OUT_OF_MEMORY, r.termination(), "exit " + r.exitCode() + ": " + r.stderrTail());
    }

    @Test
    void processWithinItsMemoryIsNotKilled() {
        RunOnceResult r = script("dd if=/dev/zero of=/dev/null bs=1M count=4 2>/dev/null; echo fine").memoryMb(32)
                .run();

        assertExited(r, 0);
        assertEquals("fine\n", stdout(r));
    }

    // ---- images ----

    @Test
    void preparingAPresentImageDoesNotPullIt() {
        PreparedImage image = backend.prepare(scriptImage());

        assertEquals(scriptImage(), image.image());
        assertFalse(image.pulled());
        assertFalse(image.imageId().isBlank());
        assertEquals(Duration.ZERO, image.pullTime());
    }

    @Test
    void preparingAnUnpullableImageNamesTheImage() {
        ImageUnavailableException e = assertThrows(ImageUnavailableException.class,
                () -> backend.prepare(UNPULLABLE_IMAGE));

        assertTrue(e.getMessage().contains(UNPULLABLE_IMAGE), e.getMessage());
    }

    @Test
    void runningAnUnpullableImageIsAPlatformErrorNotAResult() {
        RunOnceRequest request = new Call(UNPULLABLE_IMAGE, "true").request();

        ImageUnavailableException e = assertThrows(ImageUnavailableException.class, () -> backend.runOnce(request));
        assertTrue(e.getMessage().contains(UNPULLABLE_IMAGE), e.getMessage());
    }

    // ---- timings, cleanup, concurrency ----

    @Test
    void timingsAreMeasuredAndNothingIsLeftBehind() {
        RunOnceResult r = script("echo timed").run();

        assertExited(r, 0);
        assertEquals(Duration.ZERO, r.imagePull(), "the image was present");
        assertTrue(r.createStart().compareTo(Duration.ZERO) > 0, "createStart " + r.createStart());
        assertTrue(r.run().compareTo(Duration.ZERO) > 0, "run " + r.run());
        assertEquals(0, backend.reapLeftovers(), "the instance of a finished call was left behind");
    }

    @Test
    void concurrentCallsEachGetTheirOwnPayloadBack() throws Exception {
        int calls = 16;
        List<Future<RunOnceResult>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < calls; i++) {
                Call call = script("printf '%s/' \"$1\"; cat").payload("call-" + i);
                futures.add(pool.submit(call::run));
            }
            for (int i = 0; i < calls; i++) {
                RunOnceResult r = futures.get(i).get();
                assertExited(r, 0);
                assertEquals("call-" + i + "/call-" + i, stdout(r));
            }
        }
        assertEquals(0, backend.reapLeftovers(), "instances of finished calls were left behind");
    }

    @Test
    void healthIsUpAndCloseIsIdempotent() {
        assertTrue(backend.health().up(), backend.health().detail());
        backend.close();
        backend.close();
    }

    // ---- helpers ----

    /** @return stdout decoded as UTF-8 */
    protected static String stdout(RunOnceResult r) {
        return new String(r.stdout(), StandardCharsets.UTF_8);
    }

    /**
     * Generous bound: the point is that a call is cut near its 1 s timeout, not after its 60 s sleep. The timeout
     * counts from the start, so the time to create and start the instance (long on a busy engine) is left out.
     */
    private static void assertAnsweredSoonAfterTimeout(Duration took, RunOnceResult r) {
        Duration afterStart = took.minus(r.createStart()).minus(r.imagePull());
        assertTrue(afterStart.compareTo(Duration.ofSeconds(5)) < 0, "a 1 s timeout was answered " + afterStart
                + " after the start (whole call " + took + ", run " + r.run() + ")");
    }

    /** Asserts the process exited on its own with this code, showing its log otherwise. */
    protected static void assertExited(RunOnceResult r, int exitCode) {
        assertEquals(Termination.EXITED, r.termination(), "ended as " + r.termination() + ": " + r.stderrTail());
        assertEquals(exitCode, r.exitCode(), "stderr: " + r.stderrTail());
    }

    /** A run-mode call being described; {@link #run()} hands it to the backend under test. Not thread-safe. */
    protected final class Call {
        private final String image;
        private final Map<String, String> env = new HashMap<>();
        private byte[] payload = new byte[0];
        private Duration timeout = Duration.ofSeconds(20);
        private int memoryMb = 64;
        private int maxOutputBytes = 1024 * 1024;
        private int maxLogBytes = 4096;

        Call(String image, String script) {
            this.image = image;
            env.put("SCRIPT", script);
        }

        /** Sets the payload (UTF-8). */
        public Call payload(String text) {
            this.payload = text.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /** Sets the payload as raw bytes. */
        public Call payload(byte[] bytes) {
            this.payload = bytes.clone();
            return this;
        }

        /** Adds an environment variable. */
        public Call env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /** Sets the timeout. */
        public Call timeout(Duration value) {
            this.timeout = value;
            return this;
        }

        /** Sets the memory limit. */
        public Call memoryMb(int value) {
            this.memoryMb = value;
            return this;
        }

        /** Sets the output limit. */
        public Call maxOutputBytes(int value) {
            this.maxOutputBytes = value;
            return this;
        }

        /** Sets how much of the log's end is kept. */
        public Call maxLogBytes(int value) {
            this.maxLogBytes = value;
            return this;
        }

        /** @return the request this call describes, with a fresh invocation id */
        public RunOnceRequest request() {
            return new RunOnceRequest("inv-" + UUID.randomUUID(), "fn-id-contract", "contract-fn", 1, image, env,
                    memoryMb, timeout, payload, maxOutputBytes, maxLogBytes);
        }

        /** @return what the backend under test made of this call */
        public RunOnceResult run() {
            return backend.runOnce(request());
        }
    }
}
