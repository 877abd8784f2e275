package io.granda.core;

import java.util.Collection;

/**
 * Totals over the calls in a window: an immutable value.
 *
 * @param calls         number of calls
 * @param errors        calls that ended in {@link Outcome#FUNCTION_ERROR}
 * @param timeouts      calls that ended in {@link Outcome#TIMEOUT}
 * @param outOfMemory   calls that ended in {@link Outcome#OUT_OF_MEMORY}
 * @param coldStarts    calls that paid a cold start
 * @param computeMillis total wall time of the calls, in milliseconds
 * @param billedMillis  total billed time (run time rounded up per call), in milliseconds
 * @param mbMillis      total memory times billed time, in MiB x ms; see {@link Billing}
 * @param cpuMicros     total CPU time of the calls whose CPU time the backend could read, in microseconds
 */
public record UsageSummary(
        long calls,
        long errors,
        long timeouts,
        long outOfMemory,
        long coldStarts,
        long computeMillis,
        long billedMillis,
        long mbMillis,
        long cpuMicros) {

    /** No calls at all. */
    public static final UsageSummary EMPTY = new UsageSummary(0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** @return billed GB-seconds */
    public double gbSeconds() {
        return Billing.gbSeconds(mbMillis);
    }

    /** @return CPU seconds used */
    public double cpuSeconds() {
        return cpuMicros / 1_000_000.0;
    }

    /**
     * @param other more totals
     * @return the sum of both
     */
    public UsageSummary plus(UsageSummary other) {
        return new UsageSummary(calls + other.calls, errors + other.errors, timeouts + other.timeouts,
                outOfMemory + other.outOfMemory, coldStarts + other.coldStarts, computeMillis + other.computeMillis,
                billedMillis + other.billedMillis, mbMillis + other.mbMillis, cpuMicros + other.cpuMicros);
    }

    /**
     * @param buckets a series
     * @return the totals over all of it
     */
    public static UsageSummary sum(Collection<UsageBucket> buckets) {
        UsageSummary total = EMPTY;
        for (UsageBucket b : buckets) {
            total = total.plus(b.usage());
        }
        return total;
    }

    /**
     * @param r one record
     * @return the totals of that one call
     */
    public static UsageSummary of(InvocationRecord r) {
        return new UsageSummary(1, r.outcome() == Outcome.FUNCTION_ERROR ? 1 : 0, r.outcome() == Outcome.TIMEOUT ? 1 : 0,
                r.outcome() == Outcome.OUT_OF_MEMORY ? 1 : 0, r.cold() ? 1 : 0, r.durationMillis(), r.billedMillis(),
                Billing.mbMillis(r.memoryMb(), r.billedMillis()), Math.max(0, r.cpuMicros()));
    }
}
