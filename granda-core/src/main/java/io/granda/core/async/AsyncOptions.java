package io.granda.core.async;

import java.time.Duration;
import java.util.Objects;

/**
 * Platform-wide settings of asynchronous invocations: an immutable value with useful defaults ({@link #DEFAULTS}).
 *
 * @param maxConcurrentEvents most events running at once over all functions (default 32), so that event work as a
 *                            whole cannot take every slot of the platform; each function has its own limit too
 *                            ({@link AsyncPolicy#concurrency()})
 * @param idempotencyWindow   how long an idempotency key stays taken (default 24 h)
 * @param maxResultBytes      how much of an event's answer is kept with it (default 256 KiB); more is cut and
 *                            flagged
 * @param finishedRetention   how long succeeded and dead events are kept (default 7 days)
 * @param pollInterval        longest the dispatcher sleeps without looking at the queue (default 1 s); new events
 *                            and freed slots wake it at once, so this matters only for events made by another process
 * @param callbackTimeout     how long one callback POST may take (default 10 s)
 * @param callbackAttempts    tries per callback (default 3, 1 s apart, doubling)
 */
public record AsyncOptions(
        int maxConcurrentEvents,
        Duration idempotencyWindow,
        int maxResultBytes,
        Duration finishedRetention,
        Duration pollInterval,
        Duration callbackTimeout,
        int callbackAttempts) {

    /** The defaults. */
    public static final AsyncOptions DEFAULTS = new AsyncOptions(32, Duration.ofHours(24), 256 * 1024,
            Duration.ofDays(7), Duration.ofSeconds(1), Duration.ofSeconds(10), 3);

    public AsyncOptions {
        Objects.requireNonNull(idempotencyWindow, "idempotencyWindow");
        Objects.requireNonNull(finishedRetention, "finishedRetention");
        Objects.requireNonNull(pollInterval, "pollInterval");
        Objects.requireNonNull(callbackTimeout, "callbackTimeout");
        if (maxConcurrentEvents < 1) {
            throw new IllegalArgumentException("maxConcurrentEvents must be at least 1, was " + maxConcurrentEvents);
        }
        if (maxResultBytes < 0) {
            throw new IllegalArgumentException("maxResultBytes must not be negative");
        }
        if (idempotencyWindow.isNegative() || finishedRetention.isNegative() || !pollInterval.isPositive()
                || !callbackTimeout.isPositive()) {
            throw new IllegalArgumentException("windows must not be negative, intervals and timeouts positive");
        }
        if (callbackAttempts < 1) {
            throw new IllegalArgumentException("callbackAttempts must be at least 1");
        }
    }

    /** @return a copy with another global limit */
    public AsyncOptions withMaxConcurrentEvents(int n) {
        return new AsyncOptions(n, idempotencyWindow, maxResultBytes, finishedRetention, pollInterval,
                callbackTimeout, callbackAttempts);
    }

    /** @return a copy with another idempotency window */
    public AsyncOptions withIdempotencyWindow(Duration window) {
        return new AsyncOptions(maxConcurrentEvents, window, maxResultBytes, finishedRetention, pollInterval,
                callbackTimeout, callbackAttempts);
    }

    /** @return a copy with another poll interval */
    public AsyncOptions withPollInterval(Duration interval) {
        return new AsyncOptions(maxConcurrentEvents, idempotencyWindow, maxResultBytes, finishedRetention, interval,
                callbackTimeout, callbackAttempts);
    }

    /** @return a copy with another retention of finished events */
    public AsyncOptions withFinishedRetention(Duration retention) {
        return new AsyncOptions(maxConcurrentEvents, idempotencyWindow, maxResultBytes, retention, pollInterval,
                callbackTimeout, callbackAttempts);
    }
}
