package io.granda.core.internal;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionSpec;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.InvocationTimings;
import io.granda.core.Outcome;
import io.granda.core.spi.Backend;
import io.granda.core.spi.Invoker;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;

/**
 * Serves run-mode functions: one fresh instance per call through {@link Backend#runOnce(RunOnceRequest)}. Not API.
 * Thread-safe.
 */
public final class RunModeInvoker implements Invoker {

    private final Backend backend;
    private final Clock clock;
    private final int maxOutputBytes;
    private final int maxLogBytes;

    /**
     * @param backend        runs the instances; must have {@link io.granda.core.spi.BackendCapability#RUN_ONCE}
     * @param clock          time source for timings
     * @param maxOutputBytes output beyond this is cut
     * @param maxLogBytes    how much of the end of the log to keep
     */
    public RunModeInvoker(Backend backend, Clock clock, int maxOutputBytes, int maxLogBytes) {
        this.backend = backend;
        this.clock = clock;
        this.maxOutputBytes = maxOutputBytes;
        this.maxLogBytes = maxLogBytes;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    @Override
    public InvocationResult invoke(String invocationId, DeployedFunction function, InvocationRequest request) {
        FunctionSpec spec = function.spec();
        Instant start = clock.instant();
        RunOnceResult run = backend.runOnce(new RunOnceRequest(invocationId, function.id(), function.name(),
                function.revision(), spec.image(), spec.env(), spec.memoryMb(), spec.timeout(), request.body(),
                maxOutputBytes, maxLogBytes));
        // A wall clock can step back during a call (NTP); a call never takes negative time.
        Instant end = max(start, clock.instant());
        Outcome outcome = switch (run.termination()) {
            case EXITED -> run.exitCode() == 0 ? Outcome.SUCCESS : Outcome.FUNCTION_ERROR;
            case TIMED_OUT -> Outcome.TIMEOUT;
            case OUT_OF_MEMORY -> Outcome.OUT_OF_MEMORY;
        };
        InvocationTimings timings = new InvocationTimings(start, end, null, run.imagePull(), run.createStart(),
                null, run.run());
        // Every run-mode call starts its own instance, so every call is cold.
        return new InvocationResult(invocationId, function.id(), function.name(), function.revision(), outcome,
                run.exitCode(), 0, Map.of(), run.stdout(), run.stdoutTruncated(), run.stderrTail(), timings, run.cpuMicros(), true);
    }
}
