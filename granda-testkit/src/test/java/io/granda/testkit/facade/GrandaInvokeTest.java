package io.granda.testkit.facade;

import io.granda.core.BackendUnavailableException;
import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.GrandaOptions;
import io.granda.core.ImageUnavailableException;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.PayloadTooLargeException;
import io.granda.core.UsageSummary;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult.Termination;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Invoking functions through the facade and reading back what they cost. */
class GrandaInvokeTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private final FakeClock clock = new FakeClock(T0);
    private final FakeBackend backend = new FakeBackend();
    private Granda granda = Granda.builder().backend(backend).clock(clock).build();

    @AfterEach
    void close() {
        granda.close();
    }

    private DeployedFunction deployHello() {
        return granda.deploy(FunctionSpec.builder("hello").image("granda/hello").build());
    }

    private List<InvocationRecord> records(String name) {
        return granda.invocations(name, 1000, null).items();
    }

    @Test
    void invokeReturnsTheFunctionsOutput() {
        DeployedFunction f = deployHello();
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("world"));

        assertEquals(Outcome.SUCCESS, r.outcome());
        assertEquals("world", r.outputAsString());
        assertEquals(0, r.exitCode());
        assertEquals(f.id(), r.functionId());
        assertEquals("hello", r.functionName());
        assertEquals(1, r.revision());
        assertTrue(r.cold(), "run mode starts an instance per call");
        assertEquals(1, backend.runCalls());
        assertEquals(0, granda.callsInFlight());
    }

    @Test
    void invocationIdsFollowThePlatformClock() {
        deployHello();
        String first = granda.invoke("hello", InvocationRequest.of("1")).invocationId();
        clock.advance(Duration.ofMillis(1));
        String second = granda.invoke("hello", InvocationRequest.of("2")).invocationId();
        assertTrue(first.compareTo(second) < 0, first + " then " + second);
        assertEquals(26, first.length());
    }

    @Test
    void theBackendIsAskedToRunExactlyTheDeployedRevision() {
        AtomicReference<RunOnceRequest> seen = new AtomicReference<>();
        backend.withBehaviour(req -> {
            seen.set(req);
            return FakeBackend.echo(req);
        });
        DeployedFunction f = granda.deploy(FunctionSpec.builder("hello").image("granda/hello:1").memoryMb(64)
                .timeout(Duration.ofSeconds(3)).env(Map.of("GREETING", "hi")).build());
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("payload"));

        RunOnceRequest req = seen.get();
        assertEquals(r.invocationId(), req.invocationId());
        assertEquals(f.id(), req.functionId());
        assertEquals("hello", req.functionName());
        assertEquals(1, req.revision());
        assertEquals("granda/hello:1", req.image());
        assertEquals(Map.of("GREETING", "hi"), req.env());
        assertEquals(64, req.memoryMb());
        assertEquals(Duration.ofSeconds(3), req.timeout());
        assertEquals("payload", Runs.payload(req));
        assertEquals(granda.options().maxOutputBytes(), req.maxOutputBytes());
        assertEquals(granda.options().maxLogTailBytes(), req.maxLogBytes());
    }

    @Test
    void aCleanExitIsSuccess() {
        deployHello();
        backend.withBehaviour(req -> Runs.exited(0, "ok", Duration.ofMillis(5)));
        InvocationResult r = granda.invoke("hello", InvocationRequest.of(""));
        assertEquals(Outcome.SUCCESS, r.outcome());
        assertEquals(0, r.exitCodeIfAny().getAsInt());
    }

    @Test
    void aNonZeroExitIsAFunctionErrorNotAnException() {
        deployHello();
        backend.withBehaviour(req -> new io.granda.core.spi.RunOnceResult(Termination.EXITED, 3,
                Runs.bytes("partial"), false, "boom\n", Duration.ZERO, Duration.ofMillis(30), Duration.ofMillis(4),
                -1));
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("x"));
        assertEquals(Outcome.FUNCTION_ERROR, r.outcome());
        assertEquals(3, r.exitCode());
        assertEquals("partial", r.outputAsString());
        assertEquals("boom\n", r.logTail());
        InvocationRecord rec = granda.invocation(r.invocationId()).orElseThrow();
        assertEquals(Outcome.FUNCTION_ERROR, rec.outcome());
        assertEquals(3, rec.exitCode());
    }

    @Test
    void aTimeoutIsTheTimeoutOutcome() {
        deployHello();
        backend.withBehaviour(req -> Runs.ended(Termination.TIMED_OUT, InvocationResult.NO_EXIT_CODE, ""));
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("x"));
        assertEquals(Outcome.TIMEOUT, r.outcome());
        assertTrue(r.exitCodeIfAny().isEmpty());
        assertEquals(Outcome.TIMEOUT, granda.invocation(r.invocationId()).orElseThrow().outcome());
    }

    @Test
    void anOomKillIsTheOutOfMemoryOutcome() {
        deployHello();
        backend.withBehaviour(req -> Runs.ended(Termination.OUT_OF_MEMORY, 137, "Killed"));
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("x"));
        assertEquals(Outcome.OUT_OF_MEMORY, r.outcome());
        assertEquals(137, r.exitCode());
        InvocationRecord rec = granda.invocation(r.invocationId()).orElseThrow();
        assertEquals(Outcome.OUT_OF_MEMORY, rec.outcome());
        assertEquals(137, rec.exitCode());
    }

    @Test
    void theRecordDescribesTheCall() {
        DeployedFunction f = granda.deploy(FunctionSpec.builder("hello").image("granda/hello").memoryMb(256)
                .build());
        backend.withBehaviour(req -> {
            clock.advance(Duration.ofMillis(40));
            return new io.granda.core.spi.RunOnceResult(Termination.EXITED, 0,
                    Runs.bytes("hello, " + Runs.payload(req)), false, "", Duration.ofMillis(7), Duration.ofMillis(30),
                    Duration.ofNanos(1_500_123), 900);
        });
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("world"));

        List<InvocationRecord> records = records("hello");
        assertEquals(1, records.size());
        InvocationRecord rec = records.getFirst();
        assertEquals(r.invocationId(), rec.invocationId());
        assertEquals(InvocationRecord.DEFAULT_TENANT, rec.tenant());
        assertEquals(f.id(), rec.functionId());
        assertEquals("hello", rec.functionName());
        assertEquals(1, rec.revision());
        assertEquals(T0, rec.start());
        assertEquals(T0.plusMillis(40), rec.end());
        assertEquals(40, rec.durationMillis());
        assertEquals(0, rec.queueMicros());
        assertEquals(7_000, rec.phases().pullMicros(), "image pull");
        assertEquals(30_000, rec.phases().startMicros(), "create+start");
        assertEquals(0, rec.initMicros(), "run mode has no init");
        assertEquals(37_000, rec.phases().coldStartMicros(), "cold start = pull + create/start + init");
        assertEquals(1_500, rec.runMicros());
        assertEquals(2, rec.billedMillis(), "1.5 ms rounds up to 2 ms");
        assertEquals(256, rec.memoryMb());
        assertEquals(900, rec.cpuMicros());
        assertEquals(Outcome.SUCCESS, rec.outcome());
        assertEquals(0, rec.exitCode());
        assertTrue(rec.cold());
        assertEquals(5, rec.requestBytes());
        assertEquals(12, rec.responseBytes());
        assertEquals(rec, granda.invocation(r.invocationId()).orElseThrow());

        assertEquals(T0, r.timings().start());
        assertEquals(Duration.ofMillis(40), r.timings().total());
        assertEquals(Duration.ofMillis(37), r.timings().coldStart());
        assertEquals(900, r.cpuMicros());
    }

    @Test
    void aRecordCanBeReadTheMomentInvokeReturns() {
        deployHello();
        for (int i = 0; i < 300; i++) {
            // Each call starts a microsecond after the last, so the newest is the last: calls that start in the
            // same instant are listed by invocation id, not by arrival.
            clock.advance(Duration.ofNanos(1_000));
            InvocationResult r = granda.invoke("hello", InvocationRequest.of("call " + i));
            InvocationRecord rec = granda.invocation(r.invocationId())
                    .orElseThrow(() -> new AssertionError("record of a returned call not readable"));
            assertEquals(r.invocationId(), rec.invocationId());
            if (i % 50 == 0) {
                assertEquals(r.invocationId(), granda.invocations("hello", 1, null).items().getFirst().invocationId());
                assertEquals(i + 1, granda.usage("hello", T0, T0.plusSeconds(1)).calls());
            }
        }
    }

    @Test
    void invocationsArePagedNewestFirst() {
        deployHello();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(granda.invoke("hello", InvocationRequest.of("" + i)).invocationId());
            clock.advance(Duration.ofMillis(1));
        }
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Page<InvocationRecord> page = granda.invocations("hello", 2, cursor);
            page.items().forEach(rec -> seen.add(rec.invocationId()));
            cursor = page.nextCursor();
            pages++;
        } while (cursor != null);
        assertEquals(3, pages);
        assertEquals(ids.reversed(), seen);
    }

    @Test
    void usageTotalsTheCallsInTheWindow() {
        granda.deploy(FunctionSpec.builder("hello").image("granda/hello").memoryMb(128).build());
        granda.deploy(FunctionSpec.builder("other").image("granda/hello").build());
        // Each call takes 10 ms of wall time; what it returns depends on the payload.
        backend.withBehaviour(req -> {
            clock.advance(Duration.ofMillis(10));
            return switch (Runs.payload(req)) {
                case "ok" -> Runs.exited(0, "ok", Duration.ofMillis(1000));
                case "fail" -> Runs.exited(1, "", Duration.ofNanos(2_500_000));
                case "slow" -> Runs.ended(Termination.TIMED_OUT, InvocationResult.NO_EXIT_CODE, "");
                case "oom" -> Runs.ended(Termination.OUT_OF_MEMORY, 137, "");
                default -> throw new IllegalArgumentException(Runs.payload(req));
            };
        });
        for (String p : List.of("ok", "ok", "fail", "slow", "oom")) {
            granda.invoke("hello", InvocationRequest.of(p));
        }
        granda.invoke("other", InvocationRequest.of("ok"));
        Instant afterwards = clock.instant();
        granda.invoke("hello", InvocationRequest.of("ok")); // starts at 'afterwards': outside [T0, afterwards)

        UsageSummary u = granda.usage("hello", T0, afterwards);
        assertEquals(5, u.calls());
        assertEquals(1, u.errors());
        assertEquals(1, u.timeouts());
        assertEquals(1, u.outOfMemory());
        assertEquals(5, u.coldStarts());
        assertEquals(50, u.computeMillis());
        long billed = 1000 + 1000 + 3 + 10 + 10;
        assertEquals(billed, u.billedMillis());
        assertEquals(128 * billed, u.mbMillis());
        assertEquals(128.0 * billed / 1024 / 1000, u.gbSeconds(), 1e-12);

        assertEquals(6, granda.usage("hello", T0, afterwards.plusMillis(1)).calls());
        assertEquals(UsageSummary.EMPTY, granda.usage("hello", T0.minusSeconds(60), T0));
        assertEquals(1, granda.usage("other", T0, afterwards).calls());
    }

    @Test
    void aPayloadOverTheLimitIsRefusedWithoutRunningAnything() {
        granda.close();
        granda = Granda.builder().backend(backend).clock(clock)
                .options(GrandaOptions.DEFAULTS.withMaxPayloadBytes(10)).build();
        deployHello();

        PayloadTooLargeException e = assertThrows(PayloadTooLargeException.class,
                () -> granda.invoke("hello", InvocationRequest.of(new byte[11])));
        assertEquals("payload_too_large", e.code());
        assertEquals(0, backend.runCalls());
        assertTrue(records("hello").isEmpty());

        granda.invoke("hello", InvocationRequest.of(new byte[10]));
        assertEquals(1, backend.runCalls(), "exactly the limit is accepted");
    }

    @Test
    void anUnknownFunctionIsNotFound() {
        FunctionNotFoundException e = assertThrows(FunctionNotFoundException.class,
                () -> granda.invoke("nope", InvocationRequest.of("x")));
        assertEquals("function_not_found", e.code());
        assertEquals(0, backend.runCalls());
        assertThrows(FunctionNotFoundException.class, () -> granda.invocations("nope", 10, null));
        assertThrows(FunctionNotFoundException.class, () -> granda.usage("nope", T0, T0.plusSeconds(1)));
        assertTrue(granda.invocation("no-such-id").isEmpty());
    }

    @Test
    void aDownBackendIsAPlatformErrorAndWritesNoRecord() {
        deployHello();
        backend.setDown(true);
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> granda.invoke("hello", InvocationRequest.of("x")));
        assertEquals("backend_unavailable", e.code());
        assertTrue(records("hello").isEmpty());
        assertEquals(0, granda.usage("hello", T0, T0.plusSeconds(1)).calls());
        assertEquals(0, granda.callsInFlight(), "the failed call is no longer counted");

        backend.setDown(false);
        assertEquals(Outcome.SUCCESS, granda.invoke("hello", InvocationRequest.of("x")).outcome());
        assertEquals(1, records("hello").size());
    }

    @Test
    void anImageGoneAfterDeployIsAPlatformErrorAndWritesNoRecord() {
        deployHello();
        backend.withMissingImage("granda/hello");
        assertThrows(ImageUnavailableException.class, () -> granda.invoke("hello", InvocationRequest.of("x")));
        assertTrue(records("hello").isEmpty());
    }

    @Test
    void theNextCallAfterAnUpdateRunsTheNewRevision() {
        deployHello();
        AtomicReference<RunOnceRequest> seen = new AtomicReference<>();
        backend.withBehaviour(req -> {
            seen.set(req);
            return FakeBackend.echo(req);
        });
        InvocationResult before = granda.invoke("hello", InvocationRequest.of("x"));
        granda.update(FunctionSpec.builder("hello").image("granda/hello:v2").memoryMb(512).build());
        InvocationResult after = granda.invoke("hello", InvocationRequest.of("x"));

        assertEquals(1, before.revision());
        assertEquals(2, after.revision());
        assertEquals("granda/hello:v2", seen.get().image());
        assertEquals(2, seen.get().revision());
        assertEquals(512, seen.get().memoryMb());
        InvocationRecord rec = granda.invocation(after.invocationId()).orElseThrow();
        assertEquals(2, rec.revision());
        assertEquals(512, rec.memoryMb());
        assertEquals(1, granda.invocation(before.invocationId()).orElseThrow().revision(),
                "the old record keeps the revision that served it");
    }

    @Test
    void afterDeleteTheFunctionCannotBeCalledButItsRecordsStay() {
        DeployedFunction f = deployHello();
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("x"));
        assertTrue(granda.delete("hello"));

        assertThrows(FunctionNotFoundException.class, () -> granda.invoke("hello", InvocationRequest.of("x")));
        assertEquals(1, backend.runCalls());
        InvocationRecord kept = granda.invocation(r.invocationId()).orElseThrow();
        assertEquals(f.id(), kept.functionId());
        assertEquals("hello", kept.functionName());
    }

    @Test
    void aWallClockSteppingBackDuringACallNeverGivesANegativeDuration() {
        deployHello();
        backend.withBehaviour(req -> {
            clock.set(T0.minusSeconds(1)); // e.g. NTP stepping the system clock back
            return FakeBackend.echo(req);
        });
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("x"));

        assertFalse(r.timings().total().isNegative(), r.timings().toString());
        InvocationRecord rec = granda.invocation(r.invocationId()).orElseThrow();
        assertTrue(rec.durationMillis() >= 0, "duration " + rec.durationMillis());
        assertEquals(0, granda.usage("hello", T0, T0.plusSeconds(1)).computeMillis());
    }

    @Test
    void callsFromManyThreadsAreAllRecorded() throws Exception {
        deployHello();
        int threads = 8;
        int perThread = 250;
        List<Thread> workers = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < perThread; i++) {
                        granda.invoke("hello", InvocationRequest.of("x"));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread w : workers) {
            w.join();
        }
        assertNull(failure.get());
        assertEquals(threads * perThread, granda.usage("hello", T0, T0.plusSeconds(1)).calls());
        assertEquals(threads * perThread, backend.runCalls());
    }

    @Test
    void theInputArrayIsWhatTheBackendReceives() {
        deployHello();
        byte[] payload = {0, 1, 2, (byte) 0xff};
        AtomicReference<byte[]> seen = new AtomicReference<>();
        backend.withBehaviour(req -> {
            seen.set(req.payload());
            return FakeBackend.echo(req);
        });
        InvocationResult r = granda.invoke("hello", InvocationRequest.of(payload));
        assertArrayEquals(payload, seen.get());
        assertArrayEquals(payload, r.output());
    }
}
