package io.granda.core.access;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Counting failed key checks per client over a sliding window, on a clock the test moves: no sleeping. */
class AuthFailureLimiterTest {

    private final ManualClock clock = new ManualClock(Instant.parse("2026-07-01T00:00:00Z"));
    private final AuthFailureLimiter limiter = new AuthFailureLimiter(3, Duration.ofSeconds(60), 100, clock);

    private void fail(String client, int times) {
        for (int i = 0; i < times; i++) {
            limiter.recordFailure(client);
        }
    }

    @Test
    void aClientIsRefusedAtTheLimitUntilItsOldestFailureLeavesTheWindow() {
        limiter.recordFailure("10.0.0.1");
        clock.advance(Duration.ofSeconds(10));
        limiter.recordFailure("10.0.0.1");
        assertEquals(Optional.empty(), limiter.retryAfter("10.0.0.1"), "two of three");
        clock.advance(Duration.ofSeconds(10));
        limiter.recordFailure("10.0.0.1");

        assertEquals(Optional.of(Duration.ofSeconds(40)), limiter.retryAfter("10.0.0.1"),
                "until the first failure, 20 s ago, is 60 s old");
        clock.advance(Duration.ofMillis(39_500));
        assertEquals(Optional.of(Duration.ofSeconds(1)), limiter.retryAfter("10.0.0.1"), "rounded up");
        clock.advance(Duration.ofMillis(499));
        assertEquals(Optional.of(Duration.ofSeconds(1)), limiter.retryAfter("10.0.0.1"), "one instant before");

        clock.advance(Duration.ofMillis(1));
        assertEquals(Optional.empty(), limiter.retryAfter("10.0.0.1"), "the window lets it through");
        limiter.recordFailure("10.0.0.1");
        assertEquals(Optional.of(Duration.ofSeconds(10)), limiter.retryAfter("10.0.0.1"),
                "another failure: refused again until the second one leaves the window");
    }

    @Test
    void clientsAreCountedApart() {
        fail("10.0.0.1", 3);

        assertEquals(Optional.of(Duration.ofSeconds(60)), limiter.retryAfter("10.0.0.1"));
        assertEquals(Optional.empty(), limiter.retryAfter("10.0.0.2"));
        fail("10.0.0.2", 2);
        assertEquals(Optional.empty(), limiter.retryAfter("10.0.0.2"));
    }

    @Test
    void failuresOlderThanTheWindowDoNotAddUp() {
        for (int i = 0; i < 10; i++) {
            fail("10.0.0.1", 2);
            clock.advance(Duration.ofSeconds(61));
        }
        assertEquals(Optional.empty(), limiter.retryAfter("10.0.0.1"));
        assertEquals(0, limiter.trackedClients(), "a client whose failures all left the window is forgotten");
    }

    @Test
    void manyFailuresAtOnceKeepOnlyTheNewest() {
        fail("10.0.0.1", 2);
        clock.advance(Duration.ofSeconds(30));
        fail("10.0.0.1", 50);

        assertEquals(Optional.of(Duration.ofSeconds(60)), limiter.retryAfter("10.0.0.1"),
                "the newest three count: all from now");
    }

    @Test
    void atMostMaxClientsAreTrackedTheOneWithTheOldestLastFailureGoingFirst() {
        AuthFailureLimiter small = new AuthFailureLimiter(2, Duration.ofSeconds(60), 3, clock);
        for (String client : new String[] {"a", "b", "c"}) {
            small.recordFailure(client);
            small.recordFailure(client);
            clock.advance(Duration.ofSeconds(1));
        }
        small.recordFailure("a");  // a's last failure is now the newest: b goes first

        small.recordFailure("d");

        assertEquals(3, small.trackedClients());
        assertEquals(Optional.empty(), small.retryAfter("b"), "forgotten");
        assertEquals(Optional.of(Duration.ofSeconds(59)), small.retryAfter("c"));
        assertEquals(Optional.of(Duration.ofSeconds(57)), small.retryAfter("a"), "its newest two: 3 s ago and now");
        for (int i = 0; i < 10_000; i++) {
            small.recordFailure("flood-" + i);
        }
        assertEquals(3, small.trackedClients(), "bounded, whatever the number of clients");
    }

    @Test
    void aLimitOfZeroTurnsItOff() {
        AuthFailureLimiter off = new AuthFailureLimiter(0, Duration.ofSeconds(60), 10, clock);
        for (int i = 0; i < 1000; i++) {
            off.recordFailure("10.0.0.1");
        }
        assertEquals(Optional.empty(), off.retryAfter("10.0.0.1"));
        assertEquals(0, off.trackedClients());
    }

    @Test
    void failuresAndRefusalsAreCountedForMetricsAlsoWithTheLimitOff() {
        fail("10.0.0.1", 3);
        assertTrue(limiter.retryAfter("10.0.0.1").isPresent());
        assertTrue(limiter.retryAfter("10.0.0.1").isPresent());
        assertTrue(limiter.retryAfter("10.0.0.2").isEmpty());
        assertEquals(3, limiter.failures());
        assertEquals(2, limiter.refusals(), "each refused request, not each client");

        AuthFailureLimiter off = new AuthFailureLimiter(0, Duration.ofSeconds(60), 10, clock);
        off.recordFailure("10.0.0.1");
        off.recordFailure("10.0.0.1");
        assertTrue(off.retryAfter("10.0.0.1").isEmpty());
        assertEquals(2, off.failures(), "failures are worth alerting on whether or not they are throttled");
        assertEquals(0, off.refusals());
    }

    @Test
    void boundsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new AuthFailureLimiter(-1, Duration.ofSeconds(60), 1, clock));
        assertThrows(IllegalArgumentException.class,
                () -> new AuthFailureLimiter(AuthFailureLimiter.MAX_LIMIT + 1, Duration.ofSeconds(60), 1, clock));
        assertThrows(IllegalArgumentException.class, () -> new AuthFailureLimiter(3, Duration.ZERO, 1, clock));
        assertThrows(IllegalArgumentException.class, () -> new AuthFailureLimiter(3, Duration.ofSeconds(60), 0, clock));
        AuthFailureLimiter defaults = AuthFailureLimiter.of(AuthFailureLimiter.DEFAULT_LIMIT, clock);
        assertEquals(20, defaults.limit());
        assertEquals(Duration.ofSeconds(60), defaults.window());
        assertEquals(10_000, defaults.maxClients());
    }

    /** A clock that only moves when the test says so. */
    private static final class ManualClock extends Clock {
        private volatile Instant now;

        ManualClock(Instant start) {
            now = start;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }
}
