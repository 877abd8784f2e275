package io.granda.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The billing record of one call, as kept by the {@link io.granda.core.spi.MeteringStore}: an immutable value.
 * Recording the same {@code invocationId} twice has no effect.
 *
 * <p>Durations are kept in microseconds so that nothing is lost before billing rounds; the billed duration is
 * the run time rounded up to the next whole millisecond (see {@link #billedMillis()}).
 *
 * @param invocationId  unique id of the call
 * @param tenant        the tenant owning the function at the time of the call
 * @param functionId    the function's stable id
 * @param functionName  the function's name at the time of the call
 * @param revision      the revision that served the call
 * @param start         when the platform accepted the call
 * @param end           when the platform had the answer
 * @param phases        where the call's time went, in microseconds
 * @param memoryMb      memory limit the call ran with, in MiB
 * @param cpuMicros     CPU time used by the function where the backend could read it, else {@code -1}
 * @param outcome       what became of the call
 * @param exitCode      process exit code, {@link InvocationResult#NO_EXIT_CODE} when none
 * @param cold          whether the call paid a cold start
 * @param requestBytes  payload size
 * @param responseBytes output size
 */
public record InvocationRecord(
        String invocationId,
        String tenant,
        String functionId,
        String functionName,
        long revision,
        Instant start,
        Instant end,
        PhaseMicros phases,
        int memoryMb,
        long cpuMicros,
        Outcome outcome,
        int exitCode,
        boolean cold,
        long requestBytes,
        long responseBytes) {

    /** The tenant of functions deployed without naming one: {@link io.granda.core.access.Tenant#DEFAULT}. */
    public static final String DEFAULT_TENANT = io.granda.core.access.Tenant.DEFAULT;

    public InvocationRecord {
        Objects.requireNonNull(invocationId, "invocationId");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(phases, "phases");
        if (end.isBefore(start)) {
            // A negative wall time would be subtracted from every usage total.
            throw new IllegalArgumentException("end " + end + " is before start " + start);
        }
        if (memoryMb <= 0) {
            throw new IllegalArgumentException("memoryMb must be positive, was " + memoryMb);
        }
    }

    /**
     * Where a call's time went, in microseconds: an immutable value. Phases that did not happen are zero; a warm
     * call has no pull, start or init.
     *
     * @param queueMicros waiting for an instance (or capacity) beyond the instance's own start
     * @param pullMicros  pulling a missing image
     * @param startMicros creating and starting the instance
     * @param initMicros  from started until ready to serve (hot mode)
     * @param runMicros   the function's own run: what is billed
     */
    public record PhaseMicros(long queueMicros, long pullMicros, long startMicros, long initMicros, long runMicros) {

        /** A call that only ran. */
        public static PhaseMicros runOnly(long runMicros) {
            return new PhaseMicros(0, 0, 0, 0, runMicros);
        }

        public PhaseMicros {
            if (queueMicros < 0 || pullMicros < 0 || startMicros < 0 || initMicros < 0 || runMicros < 0) {
                throw new IllegalArgumentException("durations must not be negative");
            }
        }

        /** @return pull + start + init: what the caller paid for a cold start */
        public long coldStartMicros() {
            return pullMicros + startMicros + initMicros;
        }
    }

    /** @return time spent waiting for capacity, in microseconds */
    public long queueMicros() {
        return phases.queueMicros();
    }

    /** @return time spent until ready (hot mode), in microseconds */
    public long initMicros() {
        return phases.initMicros();
    }

    /** @return the function's own run time, in microseconds */
    public long runMicros() {
        return phases.runMicros();
    }

    /** @return wall time of the call in whole milliseconds, as the original Granda reported it */
    public long durationMillis() {
        return Duration.between(start, end).toMillis();
    }

    /** @return billed duration: run time rounded up to the next whole millisecond, at least 1 ms */
    public long billedMillis() {
        return Billing.billedMillis(phases.runMicros());
    }

    /** @return memory in GB times billed seconds */
    public double gbSeconds() {
        return Billing.gbSeconds(memoryMb, billedMillis());
    }
}
