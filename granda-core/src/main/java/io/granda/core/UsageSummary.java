package io.granda.core;

/**
 * Totals over the calls in a window: an immutable value.
 *
 * @param calls        number of calls
 * @param errors       calls that ended in {@link Outcome#FUNCTION_ERROR}
 * @param timeouts     calls that ended in {@link Outcome#TIMEOUT}
 * @param outOfMemory  calls that ended in {@link Outcome#OUT_OF_MEMORY}
 * @param coldStarts   calls that paid a cold start
 * @param computeMillis total wall time of the calls, in milliseconds
 * @param billedMillis total billed time (run time rounded up per call), in milliseconds
 * @param mbMillis     total memory times billed time, in MiB x ms; see {@link Billing}
 */
public record UsageSummary(
        long calls,
        long errors,
        long timeouts,
        long outOfMemory,
        long coldStarts,
        long computeMillis,
        long billedMillis,
        long mbMillis) {

    /** No calls at all. */
    public static final UsageSummary EMPTY = new UsageSummary(0, 0, 0, 0, 0, 0, 0, 0);

    /** @return billed GB-seconds */
    public double gbSeconds() {
        return Billing.gbSeconds(mbMillis);
    }
}
