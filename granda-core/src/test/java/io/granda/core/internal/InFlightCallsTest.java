package io.granda.core.internal;

import io.granda.core.ShuttingDownException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InFlightCallsTest {

    private static final Duration LONG_GRACE = Duration.ofHours(1);

    @Test
    void enterAndExitAreCounted() {
        InFlightCalls calls = new InFlightCalls();
        assertEquals(0, calls.count());
        calls.enter();
        calls.enter();
        assertEquals(2, calls.count());
        calls.exit();
        assertEquals(1, calls.count());
        calls.exit();
        assertEquals(0, calls.count());
        assertFalse(calls.isClosing());
    }

    @Test
    void closingWithNothingUnderWayReturnsZeroAtOnce() throws Exception {
        InFlightCalls calls = new InFlightCalls();
        assertEquals(0, calls.closeAndAwait(LONG_GRACE));
        assertTrue(calls.isClosing());
    }

    @Test
    void closeAndAwaitWaitsForCallsUnderWayAndRefusesNewOnes() throws Exception {
        InFlightCalls calls = new InFlightCalls();
        calls.enter();
        calls.enter();
        AtomicInteger left = new AtomicInteger(-1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                left.set(calls.closeAndAwait(LONG_GRACE));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        assertTrue(Blocked.awaitParkedOrDone(closer));
        assertTrue(calls.isClosing());
        ShuttingDownException refused = assertThrows(ShuttingDownException.class, calls::enter);
        assertEquals("shutting_down", refused.code());
        assertEquals(2, calls.count(), "a refused call is not counted");

        calls.exit();
        assertTrue(closer.isAlive(), "one call is still under way");
        assertEquals(-1, left.get());

        calls.exit();
        closer.join();
        assertNull(failure.get());
        assertEquals(0, left.get());
        assertThrows(ShuttingDownException.class, calls::enter, "still refused after the drain");
    }

    @Test
    void closeAndAwaitReturnsTheCallsLeftWhenTheGraceEnds() throws Exception {
        InFlightCalls calls = new InFlightCalls();
        calls.enter();
        calls.enter();
        calls.enter();
        assertEquals(3, calls.closeAndAwait(Duration.ZERO));
        calls.exit();
        assertEquals(2, calls.closeAndAwait(Duration.ofMillis(1)), "a second close waits again and reports");
        assertEquals(2, calls.count());
    }

    @Test
    void interruptingTheWaitEndsIt() throws Exception {
        InFlightCalls calls = new InFlightCalls();
        calls.enter();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                calls.closeAndAwait(LONG_GRACE);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        assertTrue(Blocked.awaitParkedOrDone(closer));
        closer.interrupt();
        closer.join();
        assertTrue(failure.get() instanceof InterruptedException, String.valueOf(failure.get()));
    }
}
