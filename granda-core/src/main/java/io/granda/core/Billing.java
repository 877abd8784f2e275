package io.granda.core;

/**
 * Billing arithmetic, in one place so that the store, the usage API and the metrics agree to the last digit.
 *
 * <p>A GB here is 1024 MiB, as every public serverless price list counts it (a 128 MB function is 0.125 GB).
 */
public final class Billing {

    private Billing() {
    }

    /**
     * @param runMicros the function's run time in microseconds
     * @return run time rounded up to the next whole millisecond; every call is billed at least 1 ms
     */
    public static long billedMillis(long runMicros) {
        if (runMicros < 0) {
            throw new IllegalArgumentException("runMicros must not be negative, was " + runMicros);
        }
        return Math.max(1, Math.ceilDiv(runMicros, 1000L));
    }

    /**
     * The exact unit that sums are kept in: MiB times billed milliseconds, an integer, so totals over millions of
     * calls never drift the way summed floating-point GB-seconds would.
     *
     * @param memoryMb     memory limit in MiB
     * @param billedMillis billed milliseconds
     * @return memory in MiB times billed milliseconds
     * @throws IllegalArgumentException when either is negative (it would silently subtract from a total)
     * @throws ArithmeticException      when the product does not fit in a long
     */
    public static long mbMillis(int memoryMb, long billedMillis) {
        if (memoryMb < 0 || billedMillis < 0) {
            throw new IllegalArgumentException("memoryMb and billedMillis must not be negative, were "
                    + memoryMb + " and " + billedMillis);
        }
        return Math.multiplyExact((long) memoryMb, billedMillis);
    }

    /**
     * @param mbMillis a total from {@link #mbMillis(int, long)}
     * @return the same quantity in GB-seconds
     */
    public static double gbSeconds(long mbMillis) {
        return mbMillis / 1024.0 / 1000.0;
    }

    /**
     * @param memoryMb     memory limit in MiB
     * @param billedMillis billed milliseconds
     * @return memory in GB times billed seconds
     */
    public static double gbSeconds(int memoryMb, long billedMillis) {
        return gbSeconds(mbMillis(memoryMb, billedMillis));
    }
}
