package io.granda.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SamplesTest {

    @Test
    void percentilesAreNearestRank() {
        Samples s = new Samples(1);
        for (int i = 100; i >= 1; i--) {
            s.add(i * 1_000_000L);
        }
        assertEquals(100, s.count());
        assertEquals(50_000_000L, s.percentile(50));
        assertEquals(99_000_000L, s.percentile(99));
        assertEquals(100_000_000L, s.percentile(100));
        assertEquals(1_000_000L, s.percentile(0));
        assertEquals(50.0, s.p50Millis());
        assertEquals(50.5, s.meanMillis());
    }

    @Test
    void anOddCountHasATrueMedianAndNoSampleGivesMinusOne() {
        Samples s = new Samples(4);
        s.add(3);
        s.add(1);
        s.add(2);
        assertEquals(2, s.percentile(50));
        assertEquals(-1, new Samples(4).percentile(50));
    }

    @Test
    void mergesAnotherRecorder() {
        Samples a = new Samples(2);
        Samples b = new Samples(2);
        a.add(1);
        b.add(2);
        b.add(3);
        a.addAll(b);
        assertEquals(3, a.count());
        assertEquals(3, a.percentile(100));
    }
}
