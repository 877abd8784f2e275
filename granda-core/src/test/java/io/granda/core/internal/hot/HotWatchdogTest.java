package io.granda.core.internal.hot;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.Closeable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The watchdog's transitions, with a counting target instead of a socket. */
class HotWatchdogTest {

    private final HotWatchdog watchdog = new HotWatchdog("test-watchdog");

    /** Counts closes and lets a test wait for the first. */
    private static final class CountingTarget implements Closeable {
        final AtomicInteger closes = new AtomicInteger();
        final CountDownLatch closed = new CountDownLatch(1);

        @Override
        public void close() {
            closes.incrementAndGet();
            closed.countDown();
        }
    }

    @AfterEach
    void stop() {
        watchdog.stop();
    }

    private static long inMillis(long millis) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void aPassedDeadlineClosesTheTargetOnceAndDisarmReportsIt() throws Exception {
        CountingTarget target = new CountingTarget();
        HotWatchdog.Watch watch = watchdog.watch(target);
        watch.arm(inMillis(50));
        assertTrue(target.closed.await(5, TimeUnit.SECONDS));
        assertTrue(watch.expired());
        assertFalse(watch.disarm());
        assertFalse(watch.disarm(), "still expired");
        assertThrows(IllegalStateException.class, () -> watch.arm(inMillis(1000)));
        Thread.sleep(50);
        assertEquals(1, target.closes.get());
    }

    @Test
    void aDisarmedWatchIsNeverFired() throws Exception {
        CountingTarget target = new CountingTarget();
        HotWatchdog.Watch watch = watchdog.watch(target);
        for (int i = 0; i < 1000; i++) {
            watch.arm(inMillis(30));
            assertTrue(watch.disarm());
        }
        assertFalse(target.closed.await(200, TimeUnit.MILLISECONDS));
        assertFalse(watch.expired());
        assertEquals(0, watchdog.armedCount());
    }

    @Test
    void armingTwiceIsABug() {
        HotWatchdog.Watch watch = watchdog.watch(new CountingTarget());
        watch.arm(inMillis(10_000));
        assertThrows(IllegalStateException.class, () -> watch.arm(inMillis(10_000)));
        assertTrue(watch.disarm());
    }

    @Test
    void anEarlierDeadlineWakesAWatchdogSleepingUntilALaterOne() throws Exception {
        CountingTarget late = new CountingTarget();
        CountingTarget early = new CountingTarget();
        HotWatchdog.Watch lateWatch = watchdog.watch(late);
        lateWatch.arm(inMillis(60_000));
        Thread.sleep(50);
        watchdog.watch(early).arm(inMillis(50));
        assertTrue(early.closed.await(5, TimeUnit.SECONDS));
        assertEquals(0, late.closes.get());
        assertTrue(lateWatch.disarm());
    }

    @Test
    void aDeadlineReArmedLaterOnTheSameWatchIsHonoured() throws Exception {
        // The watchdog planned to wake at the first deadline; the second, later one must still fire.
        CountingTarget target = new CountingTarget();
        HotWatchdog.Watch watch = watchdog.watch(target);
        watch.arm(inMillis(30));
        assertTrue(watch.disarm());
        watch.arm(inMillis(150));
        assertTrue(target.closed.await(5, TimeUnit.SECONDS));
        assertTrue(watch.expired());
    }

    @Test
    void cancelledWatchesAreForgotten() {
        HotWatchdog.Watch a = watchdog.watch(new CountingTarget());
        HotWatchdog.Watch b = watchdog.watch(new CountingTarget());
        assertEquals(2, watchdog.watchedCount());
        a.cancel();
        a.cancel();
        b.cancel();
        assertEquals(0, watchdog.watchedCount());
    }
}
