package io.granda.core;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.math.BigInteger;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Billing arithmetic: the numbers every store, usage report and metric must agree on. */
class BillingTest {

    private static final BigInteger THOUSAND = BigInteger.valueOf(1000);

    // ---- billedMillis -------------------------------------------------------------------------------------------

    @Property
    void billedMillisRoundsUpToTheNextWholeMillisecond(@ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long runMicros) {
        BigInteger billedMicros = BigInteger.valueOf(Billing.billedMillis(runMicros)).multiply(THOUSAND);
        BigInteger run = BigInteger.valueOf(runMicros);
        // The billed time covers the run, and one millisecond less would not.
        assertTrue(billedMicros.compareTo(run) >= 0, "covers the run");
        assertTrue(billedMicros.subtract(THOUSAND).compareTo(run) < 0, "at most one ms above the run");
    }

    @Property
    void billedMillisIsNeverBelowOneMillisecond(@ForAll @LongRange(min = 0, max = 999) long runMicros) {
        assertEquals(1, Billing.billedMillis(runMicros));
    }

    @Property
    void billedMillisIsExactAtWholeMillisecondBoundaries(
            @ForAll @LongRange(min = 1, max = Long.MAX_VALUE / 1000) long millis) {
        assertEquals(millis, Billing.billedMillis(millis * 1000));
        if (millis * 1000 + 1 > 0) {
            assertEquals(millis + 1, Billing.billedMillis(millis * 1000 + 1));
        }
    }

    @Property
    void billedMillisIsMonotonic(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long a,
                                 @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long b) {
        long lo = Math.min(a, b);
        long hi = Math.max(a, b);
        assertTrue(Billing.billedMillis(lo) <= Billing.billedMillis(hi));
    }

    @Example
    void billedMillisOfKnownValues() {
        assertEquals(1, Billing.billedMillis(0));
        assertEquals(1, Billing.billedMillis(1));
        assertEquals(1, Billing.billedMillis(1000));
        assertEquals(2, Billing.billedMillis(1001));
        assertEquals(1000, Billing.billedMillis(999_001));
        assertEquals(Long.MAX_VALUE / 1000 + 1, Billing.billedMillis(Long.MAX_VALUE));
    }

    @Property
    void billedMillisRefusesNegativeRunTime(@ForAll @LongRange(min = Long.MIN_VALUE, max = -1) long runMicros) {
        assertThrows(IllegalArgumentException.class, () -> Billing.billedMillis(runMicros));
    }

    // ---- mbMillis -----------------------------------------------------------------------------------------------

    @Property
    void mbMillisIsExactOrThrows(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int memoryMb,
                                 @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long billedMillis) {
        BigInteger exact = BigInteger.valueOf(memoryMb).multiply(BigInteger.valueOf(billedMillis));
        if (exact.bitLength() < Long.SIZE) {
            assertEquals(exact.longValueExact(), Billing.mbMillis(memoryMb, billedMillis));
        } else {
            assertThrows(ArithmeticException.class, () -> Billing.mbMillis(memoryMb, billedMillis));
        }
    }

    @Property
    void mbMillisIsExactForRealisticValues(@ForAll @IntRange(min = 6, max = 1 << 20) int memoryMb,
                                           @ForAll @LongRange(min = 1, max = 1L << 40) long billedMillis) {
        assertEquals(BigInteger.valueOf(memoryMb).multiply(BigInteger.valueOf(billedMillis)),
                BigInteger.valueOf(Billing.mbMillis(memoryMb, billedMillis)));
    }

    @Property
    void mbMillisThrowsOnOverflowInsteadOfWrapping(@ForAll @IntRange(min = 2, max = Integer.MAX_VALUE) int memoryMb) {
        long billedMillis = Long.MAX_VALUE / memoryMb + 1;
        assertThrows(ArithmeticException.class, () -> Billing.mbMillis(memoryMb, billedMillis));
    }

    @Example
    void mbMillisAtTheEdgeOfOverflowIsStillExact() {
        assertEquals(Long.MAX_VALUE, Billing.mbMillis(1, Long.MAX_VALUE));
        assertThrows(ArithmeticException.class, () -> Billing.mbMillis(2, Long.MAX_VALUE / 2 + 1));
    }

    @Property
    void mbMillisRefusesNegativeInput(@ForAll @IntRange(min = Integer.MIN_VALUE, max = -1) int memoryMb,
                                      @ForAll @LongRange(min = Long.MIN_VALUE, max = -1) long billedMillis) {
        // A negative factor would silently subtract from a billing total.
        assertThrows(IllegalArgumentException.class, () -> Billing.mbMillis(memoryMb, 1000));
        assertThrows(IllegalArgumentException.class, () -> Billing.mbMillis(128, billedMillis));
    }

    // ---- gbSeconds ----------------------------------------------------------------------------------------------

    @Example
    void a128MibFunctionRunningOneSecondIsAnEighthOfAGbSecond() {
        assertEquals(0.125, Billing.gbSeconds(128, 1000));
        assertEquals(0.125, Billing.gbSeconds(Billing.mbMillis(128, 1000)));
        assertEquals(1.0, Billing.gbSeconds(1024, 1000));
    }

    @Property
    void gbSecondsOfOneRecordMatchesItsMbMillis(@ForAll @IntRange(min = 1, max = 1 << 20) int memoryMb,
                                                @ForAll @LongRange(min = 1, max = 1L << 32) long billedMillis) {
        assertEquals(Billing.gbSeconds(Billing.mbMillis(memoryMb, billedMillis)),
                Billing.gbSeconds(memoryMb, billedMillis));
    }

    @Property
    void summingMbMillisAndConvertingOnceMatchesPerRecordConversions(
            @ForAll @Size(max = 500) List<@IntRange(min = 6, max = 10_240) Integer> memories,
            @ForAll @LongRange(min = 1, max = 900_000) long baseMillis) {
        long totalMbMillis = 0;
        double perRecordSum = 0;
        long billed = baseMillis;
        for (int memoryMb : memories) {
            totalMbMillis = Math.addExact(totalMbMillis, Billing.mbMillis(memoryMb, billed));
            perRecordSum += Billing.gbSeconds(memoryMb, billed);
            billed = billed * 7 % 900_000 + 1; // vary the durations deterministically
        }
        double once = Billing.gbSeconds(totalMbMillis);
        assertEquals(once, perRecordSum, Math.max(1e-9, Math.abs(once) * 1e-12));
    }
}
