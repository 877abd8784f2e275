package io.granda.core.internal.hot;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Enforces exchange deadlines by closing the channel of an exchange whose deadline passed. A blocking read on a
 * unix socket has no timeout, and closing the channel is the one thing that makes it fail, on platform and virtual
 * threads alike.
 *
 * <p>Why not a {@code ScheduledThreadPoolExecutor}: scheduling and cancelling a task per exchange takes the
 * queue's lock twice, allocates a task, and, whenever the new task becomes the head of the queue (every exchange,
 * when calls run one after another), wakes the timer thread. Here an exchange only writes its deadline and flips a
 * counter ({@link Watch#arm}, {@link Watch#disarm}); nothing is queued or removed, so nothing can pile up. One
 * daemon thread sleeps until the earliest deadline it knows of, then scans the watched connections. Arming only
 * wakes it when the new deadline is earlier than its planned wake-up; a disarmed exchange is simply skipped at the
 * next scan. With calls of similar timeouts it wakes about once per timeout, and a scan costs one volatile read per
 * open connection. Measured on the caller's thread, with a 40 us blocking pause between the two calls as in a real
 * exchange: arm plus disarm 0.15-0.8 us, schedule plus cancel 7-14 us ({@code HotConnectionLatencyMeasurement}).
 *
 * <p>The handshake between {@link Watch#arm} and the scan is a Dekker pattern on two volatiles: an arm writes its
 * state and then reads {@link #plannedWake}; the thread writes {@link #plannedWake} and then reads every state. So
 * either the scan sees the new deadline, or the arm sees a planned wake-up it can compare with (and unparks the
 * thread if its deadline is earlier). An unpark that finds the thread awake leaves a permit, so nothing is lost.
 *
 * <p>Thread-safe. {@link #shared()} is the one instance connections use; tests make their own.
 */
final class HotWatchdog {

    private static final Logger LOG = LoggerFactory.getLogger(HotWatchdog.class);

    /** Longest sleep when nothing is armed; any arm then wakes the thread, as its deadline is earlier. */
    private static final long IDLE_PARK_NANOS = TimeUnit.MINUTES.toNanos(10);

    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    /** The {@link System#nanoTime()} at which the thread will next scan, at the latest. */
    private volatile long plannedWake;
    private volatile boolean stopped;

    HotWatchdog(String threadName) {
        plannedWake = System.nanoTime();
        thread = Thread.ofPlatform().daemon().name(threadName).unstarted(this::run);
        thread.start();
    }

    /** @return the watchdog all connections share; its daemon thread starts on first use */
    static HotWatchdog shared() {
        return Shared.INSTANCE;
    }

    /**
     * Starts watching something that can be closed to end its exchanges, e.g. a connection's channel.
     *
     * @param target closed, from the watchdog thread, when an armed deadline passes
     * @return the watch, to arm around each exchange and {@linkplain Watch#cancel() cancel} when closing
     */
    Watch watch(Closeable target) {
        Watch watch = new Watch(target);
        watches.add(watch);
        return watch;
    }

    /** @return how many watches are registered (one per open connection): what a test checks for leaks */
    int watchedCount() {
        return watches.size();
    }

    /** @return how many watches are armed now, i.e. exchanges under way */
    int armedCount() {
        int armed = 0;
        for (Watch watch : watches) {
            if (watch.isArmed()) {
                armed++;
            }
        }
        return armed;
    }

    /** Ends the thread; for tests that made their own watchdog. Armed deadlines are no longer enforced. */
    void stop() {
        stopped = true;
        LockSupport.unpark(thread);
    }

    private void armed(long deadline) {
        if (deadline - plannedWake < 0) {
            LockSupport.unpark(thread);
        }
    }

    private void run() {
        while (!stopped) {
            try {
                long now = System.nanoTime();
                long next = now + IDLE_PARK_NANOS;
                // Published before the scan: see the class comment.
                plannedWake = next;
                for (Watch watch : watches) {
                    next = watch.expireIfDue(now, next);
                }
                plannedWake = next;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    LockSupport.parkNanos(this, sleep);
                }
            } catch (Throwable t) {
                // The thread must survive anything, or no deadline is enforced any more.
                LOG.error("hot watchdog scan failed", t);
            }
        }
    }

    /**
     * The deadline state of one connection. Its {@code state} is a sequence number: even while idle, odd while an
     * exchange is armed, {@link #EXPIRED} once the watchdog fired. Each arm and disarm moves it on, so the watchdog's
     * compare-and-set cannot expire a later exchange than the one whose deadline it read.
     *
     * <p>One exchange at a time may arm a watch (the connection's rule); {@link #cancel()} is safe from any thread.
     */
    final class Watch {

        private static final long EXPIRED = -1;

        private final Closeable target;
        private final AtomicLong state = new AtomicLong();
        private volatile long deadline;

        private Watch(Closeable target) {
            this.target = target;
        }

        /**
         * Arms the deadline of the exchange about to start.
         *
         * @throws IllegalStateException if already armed or expired
         */
        void arm(long deadlineNanos) {
            long s = state.get();
            if (s < 0 || (s & 1) != 0) {
                throw new IllegalStateException(s < 0 ? "the watch has expired" : "the watch is already armed");
            }
            deadline = deadlineNanos;
            state.set(s + 1);
            armed(deadlineNanos);
        }

        /**
         * Disarms after the exchange, whatever its end.
         *
         * @return false when the watchdog expired the exchange first (the target is closed or being closed)
         */
        boolean disarm() {
            long s = state.get();
            if (s == EXPIRED) {
                return false;
            }
            // The CAS fails only when the watchdog expired this very exchange in between.
            return (s & 1) == 0 || state.compareAndSet(s, s + 1);
        }

        /** @return whether the watchdog fired for this connection's exchange */
        boolean expired() {
            return state.get() == EXPIRED;
        }

        boolean isArmed() {
            long s = state.get();
            return s > 0 && (s & 1) != 0;
        }

        /** Stops watching: the connection is closing. Safe from any thread, more than once. */
        void cancel() {
            watches.remove(this);
        }

        /**
         * Called by the watchdog thread: closes the target if the armed deadline passed.
         *
         * @param next the earliest deadline still to come found so far
         * @return {@code next}, or this watch's deadline if it is armed, still to come and earlier
         */
        private long expireIfDue(long now, long next) {
            while (true) {
                long s = state.get();
                if (s < 0 || (s & 1) == 0) {
                    return next;
                }
                // Read after the state: this exchange's deadline or a later one's, and then the CAS fails.
                long d = deadline;
                if (d - now > 0) {
                    return d - next < 0 ? d : next;
                }
                if (state.compareAndSet(s, EXPIRED)) {
                    try {
                        target.close();
                    } catch (IOException | RuntimeException e) {
                        LOG.debug("closing a timed-out hot connection failed", e);
                    }
                    return next;
                }
                // The exchange ended (and maybe another began) since the state was read: look again.
            }
        }
    }

    /** Holder idiom: the shared thread starts only when the first connection opens. */
    private static final class Shared {
        private static final HotWatchdog INSTANCE = new HotWatchdog("granda-hot-watchdog");
    }
}
