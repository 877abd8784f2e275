package io.granda.core;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Costing usage in decimal, and cutting time into UTC buckets: the arithmetic of the usage API. */
class PricesAndGranularityTest {

    private static final BigDecimal ONE_ULP = new BigDecimal("1E-" + Prices.SCALE);

    private static UsageSummary usage(long calls, long mbMillis) {
        return new UsageSummary(calls, 0, 0, 0, 0, 0, 0, mbMillis, 0);
    }

    @Example
    void listPricesOfKnownQuantities() {
        Prices p = new Prices(new BigDecimal("0.20"), new BigDecimal("0.0000166667"), "USD");
        // One million calls cost the per-million price; 1 GB-second (1024 MiB for 1000 ms) costs the per-GB-s price.
        assertEquals(0, new BigDecimal("0.20").compareTo(p.costOf(usage(1_000_000, 0)).requests()));
        assertEquals(0, new BigDecimal("0.0000166667").compareTo(p.costOf(usage(0, 1024L * 1000)).compute()));
        // A 128 MB function billed 100 ms: 0.0125 GB-s.
        Prices.Cost c = p.costOf(usage(1, 128L * 100));
        assertEquals(new BigDecimal("0.0000002000"), c.requests());
        assertEquals(new BigDecimal("0.0000002083"), c.compute()); // 0.0125 x 0.0000166667 = 2.0833375E-7
        assertEquals(c.requests().add(c.compute()), c.total());
        assertEquals("USD", c.currency());
    }

    @Property
    void costIsAdditiveUpToOneRoundingPerPart(@ForAll @LongRange(min = 0, max = 1_000_000_000L) long callsA,
                                              @ForAll @LongRange(min = 0, max = 1_000_000_000_000L) long mbMillisA,
                                              @ForAll @LongRange(min = 0, max = 1_000_000_000L) long callsB,
                                              @ForAll @LongRange(min = 0, max = 1_000_000_000_000L) long mbMillisB) {
        Prices p = Prices.DEFAULTS;
        UsageSummary a = usage(callsA, mbMillisA);
        UsageSummary b = usage(callsB, mbMillisB);
        BigDecimal whole = p.costOf(a.plus(b)).total();
        BigDecimal parts = p.costOf(a).total().add(p.costOf(b).total());
        // Each of the four parts is rounded once, HALF_EVEN, to SCALE places: at most half an ulp each.
        assertTrue(whole.subtract(parts).abs().compareTo(ONE_ULP.multiply(BigDecimal.valueOf(2))) <= 0,
                whole + " vs " + parts);
    }

    @Property
    void costNeverDecreasesWithUsage(@ForAll @LongRange(min = 0, max = 1_000_000_000_000L) long mbMillis,
                                     @ForAll @LongRange(min = 0, max = 1_000_000L) long more) {
        Prices p = Prices.DEFAULTS;
        assertTrue(p.costOf(usage(1, mbMillis + more)).total().compareTo(p.costOf(usage(1, mbMillis)).total()) >= 0);
    }

    @Example
    void negativeOrMissingPricesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Prices(new BigDecimal("-1"), BigDecimal.ONE, "USD"));
        assertThrows(IllegalArgumentException.class, () -> new Prices(BigDecimal.ONE, BigDecimal.ONE, " "));
        assertThrows(NullPointerException.class, () -> new Prices(null, BigDecimal.ONE, "USD"));
    }

    @Property
    void aBucketHoldsItsInstantAndStartsOnAUtcBoundary(
            @ForAll @LongRange(min = -10_000_000_000L, max = 10_000_000_000L) long epochSecond,
            @ForAll @LongRange(min = 0, max = 999_999_999) long nanos) {
        Instant t = Instant.ofEpochSecond(epochSecond, nanos);
        for (Granularity g : Granularity.values()) {
            Instant start = g.floor(t);
            assertTrue(!start.isAfter(t) && t.isBefore(start.plus(g.width())), g + " bucket of " + t);
            assertEquals(start, g.floor(start), "a bucket start is its own floor");
            var utc = start.atOffset(ZoneOffset.UTC);
            assertEquals(0, utc.getSecond() + utc.getNano());
            if (g != Granularity.MINUTE) {
                assertEquals(0, utc.getMinute());
            }
            if (g == Granularity.DAY) {
                assertEquals(0, utc.getHour());
            }
            Instant end = g.ceil(t);
            assertTrue(!end.isBefore(t) && end.equals(g.floor(end)), g + " ceil of " + t);
            assertTrue(end.equals(start) ? start.equals(t) : end.equals(start.plus(g.width())));
        }
    }

    @Example
    void granularityNamesParseInAnyCaseAndUnknownOnesAreRefused() {
        assertEquals(Granularity.HOUR, Granularity.parse(" Hour "));
        assertEquals("day", Granularity.DAY.apiName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Granularity.parse("week"));
        assertTrue(e.getMessage().contains("minute, hour or day"));
    }
}
