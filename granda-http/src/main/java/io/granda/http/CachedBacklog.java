package io.granda.http;

import io.granda.core.async.EventBacklog;
import io.granda.core.async.EventStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The event queue's backlog as the gauges show it: read from the store at most once per {@code ttl}, however many
 * gauges (five) and scrapers (an HA pair of Prometheus servers, a curl) ask. One reader at a time reads the store; the
 * others wait for its answer rather than query too. Not API. Thread-safe.
 */
final class CachedBacklog {

    private static final Logger LOG = LoggerFactory.getLogger(CachedBacklog.class);

    private final Supplier<EventBacklog> read;
    private final Clock clock;
    private final Duration ttl;
    private final ReentrantLock lock = new ReentrantLock();
    /** The last reading, or null when it failed; guarded by {@link #lock}. */
    private EventBacklog last;
    /** When {@link #last} was taken, or null before the first reading; guarded by {@link #lock}. */
    private Instant readAt;

    /**
     * @param read  reads the store, e.g. {@code events::backlog}
     * @param clock the clock the events are timed by; a manual clock makes the cache manual too
     * @param ttl   how long a reading is shown
     */
    CachedBacklog(Supplier<EventBacklog> read, Clock clock, Duration ttl) {
        this.read = Objects.requireNonNull(read, "read");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ttl = Objects.requireNonNull(ttl, "ttl");
    }

    /** @return the events in this status, or NaN when the store could not be read */
    double count(EventStatus status) {
        EventBacklog b = get();
        return b == null ? Double.NaN : b.count(status);
    }

    /** @return the most overdue pending event's wait in seconds (0 when none is due), or NaN when unreadable */
    double oldestDueAgeSeconds() {
        EventBacklog b = get();
        return b == null ? Double.NaN : b.oldestDueAge().toNanos() / 1e9;
    }

    /** @return a reading no older than the ttl, or null when the store could not be read */
    EventBacklog get() {
        lock.lock();
        try {
            Instant now = clock.instant();
            // A clock that went back (a manual one, or the system's set back) also asks for a new reading.
            if (readAt == null || !now.isBefore(readAt.plus(ttl)) || now.isBefore(readAt)) {
                readAt = now;
                try {
                    last = read.get();
                } catch (RuntimeException e) {
                    // NaN rather than the previous numbers: a stale count must not look like a healthy queue. The
                    // failure is cached for the ttl as well, so that a store in trouble is not asked at every scrape.
                    last = null;
                    LOG.atWarn().setCause(e).log("could not read the event queue for its gauges");
                }
            }
            return last;
        } finally {
            lock.unlock();
        }
    }
}
