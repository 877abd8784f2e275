package io.granda.store;

import java.time.Instant;

/**
 * Converts instants to and from the integer microseconds since the epoch that the schema stores. Not API.
 *
 * <p>Microseconds are what a JVM clock on Linux actually resolves, and they fit a 64-bit integer for +-292,000 years,
 * where nanoseconds would run out in 2262.
 */
final class EpochMicros {

    private static final long MICROS_PER_SECOND = 1_000_000L;

    private EpochMicros() {
    }

    /**
     * @param instant an instant
     * @return the microsecond it falls in (sub-microsecond digits are dropped, rounding towards the past)
     * @throws IllegalArgumentException when the instant lies beyond what 64 bits of microseconds can hold
     */
    static long of(Instant instant) {
        try {
            // getNano() is never negative, so this floors for instants before the epoch too.
            return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), MICROS_PER_SECOND),
                    instant.getNano() / 1_000);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("instant " + instant + " cannot be stored: it is beyond the range of "
                    + "64-bit epoch microseconds (about 292,000 years either side of 1970)");
        }
    }

    /**
     * The smallest stored value not before {@code instant}: the right bound to compare stored microseconds with, so
     * that {@code start >= since} and {@code start < until} are exact even when the bound has nanoseconds. Instants
     * beyond the range clamp to its ends, so {@link Instant#MIN} and {@link Instant#MAX} work as open bounds.
     *
     * @param instant a bound
     * @return the bound in epoch microseconds, rounded towards the future
     */
    static long ceilClamped(Instant instant) {
        try {
            long micros = Math.multiplyExact(instant.getEpochSecond(), MICROS_PER_SECOND);
            return Math.addExact(micros, Math.ceilDiv(instant.getNano(), 1_000));
        } catch (ArithmeticException e) {
            return instant.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * The largest stored value not after {@code instant}: the microsecond it falls in, like {@link #of}, except that
     * instants beyond the range clamp to its ends instead of failing.
     *
     * @param instant a bound
     * @return the bound in epoch microseconds, rounded towards the past
     */
    static long floorClamped(Instant instant) {
        try {
            return of(instant);
        } catch (IllegalArgumentException e) {
            return instant.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * @param micros microseconds since the epoch
     * @return the instant
     */
    static Instant toInstant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, MICROS_PER_SECOND),
                Math.floorMod(micros, MICROS_PER_SECOND) * 1_000L);
    }

    /**
     * @param instant an instant
     * @return the same instant without its sub-microsecond digits: what reading it back from the store gives
     */
    static Instant truncate(Instant instant) {
        return toInstant(of(instant));
    }
}
