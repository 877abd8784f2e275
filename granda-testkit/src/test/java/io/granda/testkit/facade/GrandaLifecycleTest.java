package io.granda.testkit.facade;

import io.granda.core.BackendUnavailableException;
import io.granda.core.DeployedFunction;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.GrandaOptions;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.core.ShuttingDownException;
import io.granda.core.memory.InMemoryFunctionRegistry;
import io.granda.core.memory.InMemoryMeteringStore;
import io.granda.core.spi.FunctionRegistry;
import io.granda.core.spi.MeteringStore;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Starting and stopping the platform: reaping, draining calls, refusing new ones, owning its parts. */
class GrandaLifecycleTest {

    private final FakeClock clock = new FakeClock();
    private final FakeBackend backend = new FakeBackend();

    private Granda build() {
        return Granda.builder().backend(backend).clock(clock).build();
    }

    private static FunctionSpec hello() {
        return FunctionSpec.builder("hello").image("granda/hello").build();
    }

    /** A behaviour that signals when a call reaches the backend and holds it until released. */
    private static final class HeldCall {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        HeldCall holdOn(FakeBackend backend) {
            backend.withBehaviour(req -> {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return FakeBackend.echo(req);
            });
            return this;
        }
    }

    /** Runs one call on its own thread and keeps its result or failure. */
    private static final class Caller {
        final AtomicReference<InvocationResult> result = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread thread;

        Caller(Granda granda, String payload) {
            thread = Thread.ofPlatform().start(() -> {
                try {
                    result.set(granda.invoke("hello", InvocationRequest.of(payload)));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
        }
    }

    @Test
    void buildReapsLeftoversOnce() {
        try (Granda granda = build()) {
            assertEquals(1, backend.reapCalls());
            assertEquals("fake", granda.backendName());
            assertSame(clock, granda.clock());
        }
        assertEquals(1, backend.reapCalls(), "close removes instances through close(), not a second reap");
    }

    @Test
    void reapingAtStartCanBeTurnedOff() {
        try (Granda ignored = Granda.builder().backend(backend).clock(clock).reapLeftoversAtStart(false).build()) {
            assertEquals(0, backend.reapCalls());
        }
    }

    @Test
    void closeClosesTheBackendOnceAndASecondCloseIsANoOp() {
        Granda granda = build();
        granda.deploy(hello());
        granda.close();
        assertEquals(1, backend.closeCalls());
        granda.close();
        assertEquals(1, backend.closeCalls());
    }

    @Test
    void afterCloseCallsAreRefused() {
        Granda granda = build();
        granda.deploy(hello());
        granda.close();
        ShuttingDownException e = assertThrows(ShuttingDownException.class,
                () -> granda.invoke("hello", InvocationRequest.of("x")));
        assertEquals("shutting_down", e.code());
        assertEquals(0, backend.runCalls());
    }

    @Test
    void closeWaitsForACallUnderWayAndRefusesNewOnes() throws Exception {
        Granda granda = build();
        granda.deploy(hello());
        HeldCall held = new HeldCall().holdOn(backend);
        Caller caller = new Caller(granda, "in flight");
        held.entered.await();
        assertEquals(1, granda.callsInFlight());

        Thread closer = Thread.ofPlatform().start(granda::close);
        assertTrue(Blocked.awaitParkedOrDone(closer), "close waits for the call");
        assertThrows(ShuttingDownException.class, () -> granda.invoke("hello", InvocationRequest.of("late")));
        assertTrue(closer.isAlive());
        assertEquals(0, backend.closeCalls(), "the backend stays open under a call");
        assertEquals(1, backend.runCalls(), "the refused call never reached the backend");

        held.release.countDown();
        caller.thread.join();
        closer.join();
        assertNull(caller.failure.get());
        assertEquals(Outcome.SUCCESS, caller.result.get().outcome());
        assertEquals("in flight", caller.result.get().outputAsString());
        assertEquals(1, backend.closeCalls());
        assertTrue(granda.invocation(caller.result.get().invocationId()).isPresent(),
                "the drained call's record was stored before close returned");
    }

    @Test
    void aCallThatOutlivesTheGraceStillReturnsAndIsStillRecorded() throws Exception {
        Granda granda = Granda.builder().backend(backend).clock(clock)
                .options(GrandaOptions.DEFAULTS.withShutdownGrace(Duration.ZERO)).build();
        granda.deploy(hello());
        HeldCall held = new HeldCall().holdOn(backend);
        Caller caller = new Caller(granda, "slow");
        held.entered.await();

        granda.close(); // a zero grace: returns with the call still under way
        assertEquals(1, backend.closeCalls());
        held.release.countDown();
        caller.thread.join();

        // The function ran: its caller gets the answer (not an internal error) and the call is billed.
        assertNull(caller.failure.get());
        assertEquals(Outcome.SUCCESS, caller.result.get().outcome());
        InvocationRecord rec = granda.invocation(caller.result.get().invocationId()).orElseThrow();
        assertEquals("hello", rec.functionName());
    }

    @Test
    void aFailedBuildLeavesNoRecorderThreadBehind() {
        long before = recorderThreads();
        backend.setDown(true);
        assertThrows(BackendUnavailableException.class, this::build);
        assertEquals(before, recorderThreads());
    }

    private static long recorderThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("granda-recorder")).count();
    }

    @Test
    void closeClosesTheStoresItOwns() {
        AtomicInteger registryCloses = new AtomicInteger();
        AtomicInteger storeCloses = new AtomicInteger();
        Granda granda = Granda.builder().backend(backend).clock(clock)
                .registry(new ClosingRegistry(new InMemoryFunctionRegistry(clock), registryCloses))
                .meteringStore(new ClosingMeteringStore(new InMemoryMeteringStore(), storeCloses))
                .build();
        DeployedFunction f = granda.deploy(hello());
        InvocationResult r = granda.invoke("hello", InvocationRequest.of("x"));
        assertEquals(f.id(), r.functionId());
        granda.close();
        granda.close();
        assertEquals(1, registryCloses.get());
        assertEquals(1, storeCloses.get());
    }

    @Test
    void aCloseThatIsInterruptedStillReleasesEverything() throws Exception {
        Granda granda = build();
        granda.deploy(hello());
        HeldCall held = new HeldCall().holdOn(backend);
        Caller caller = new Caller(granda, "x");
        held.entered.await();
        Thread closer = Thread.ofPlatform().start(granda::close);
        assertTrue(Blocked.awaitParkedOrDone(closer));
        closer.interrupt();
        closer.join();
        assertEquals(1, backend.closeCalls());
        held.release.countDown();
        caller.thread.join();
    }

    /** A registry that counts closes; everything else is the in-memory one. */
    private record ClosingRegistry(FunctionRegistry delegate, AtomicInteger closes)
            implements FunctionRegistry, AutoCloseable {
        @Override
        public DeployedFunction create(String tenant, FunctionSpec spec, io.granda.core.build.FunctionSource source) {
            return delegate.create(tenant, spec, source);
        }

        @Override
        public Optional<io.granda.core.build.FunctionSource> source(String functionId, long revision) {
            return delegate.source(functionId, revision);
        }

        @Override
        public Optional<DeployedFunction> find(String name) {
            return delegate.find(name);
        }

        @Override
        public Optional<DeployedFunction> findByRoute(String routeId) {
            return delegate.findByRoute(routeId);
        }

        @Override
        public java.util.List<DeployedFunction> list() {
            return delegate.list();
        }

        @Override
        public DeployedFunction update(FunctionSpec spec, long expectedRevision,
                                       io.granda.core.build.FunctionSource source) {
            return delegate.update(spec, expectedRevision, source);
        }

        @Override
        public Optional<DeployedFunction> delete(String name) {
            return delegate.delete(name);
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    /** A metering store that counts closes; everything else is the in-memory one. */
    private record ClosingMeteringStore(MeteringStore delegate, AtomicInteger closes)
            implements MeteringStore, AutoCloseable {
        @Override
        public java.util.List<InvocationRecord> append(java.util.List<InvocationRecord> records) {
            return delegate.append(records);
        }

        @Override
        public Optional<InvocationRecord> find(String invocationId) {
            return delegate.find(invocationId);
        }

        @Override
        public io.granda.core.Page<InvocationRecord> invocations(String functionId, int limit, String cursor) {
            return delegate.invocations(functionId, limit, cursor);
        }

        @Override
        public io.granda.core.UsageSummary usage(String functionId, java.time.Instant since,
                                                 java.time.Instant until) {
            return delegate.usage(functionId, since, until);
        }

        @Override
        public java.util.List<io.granda.core.UsageBucket> usageSeries(io.granda.core.RecordFilter filter,
                                                                      io.granda.core.Granularity granularity) {
            return delegate.usageSeries(filter, granularity);
        }

        @Override
        public java.util.List<io.granda.core.FunctionUsage> usageByFunction(io.granda.core.RecordFilter filter) {
            return delegate.usageByFunction(filter);
        }

        @Override
        public long exportRecords(io.granda.core.RecordFilter filter,
                                  java.util.function.Consumer<InvocationRecord> sink) {
            return delegate.exportRecords(filter, sink);
        }

        @Override
        public long purgeRecordsBefore(java.time.Instant cutoff) {
            return delegate.purgeRecordsBefore(cutoff);
        }

        @Override
        public long purgeAggregatesBefore(java.time.Instant cutoff) {
            return delegate.purgeAggregatesBefore(cutoff);
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }
}
