package io.granda.core.access;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slows down guessing of API keys: counts the failed key checks of each client (an address, as the transport names
 * it) over a sliding window, and once a client has failed {@link #limit()} times within it, tells the caller to refuse
 * that client's keys unchecked until the oldest of those failures leaves the window. Checking the limit before the key
 * makes a refused guess cost nothing: no hash, no store read. Thread-safe.
 *
 * <p>Memory is bounded: at most {@link #maxClients()} clients are tracked, each with at most {@link #limit()} times;
 * when one more fails, the client whose last failure is the oldest is forgotten. A flood of addresses can thus push a
 * guesser out early, which only gives it back the attempts a fresh client has: callers should name a client by as
 * little as one attacker can vary cheaply (e.g. an IPv6 /64 rather than one address).
 *
 * <p>Only failures count; a client that is refused is not counted again (its refusals are free, and counting them
 * would keep it out for ever). A valid key does not reset the count: otherwise one key held would license unbounded
 * guessing of others.
 */
public final class AuthFailureLimiter {

    private static final Logger LOG = LoggerFactory.getLogger(AuthFailureLimiter.class);
    /** Failures allowed per client within the window unless configured. */
    public static final int DEFAULT_LIMIT = 20;
    /** Largest limit accepted: each tracked client keeps one time per allowed failure. */
    public static final int MAX_LIMIT = 1000;
    /** The sliding window. */
    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(60);
    /** Most clients tracked at once. */
    public static final int DEFAULT_MAX_CLIENTS = 10_000;

    /** The failure times of one client, oldest first, in a ring of {@link #limit} slots. Guarded by {@link #lock}. */
    private static final class Failures {
        final long[] nanos;
        int first;
        int count;

        Failures(int slots) {
            nanos = new long[slots];
        }

        long oldest() {
            return nanos[first];
        }

        /** Drops the times at or before the cutoff: they are out of the window. */
        void dropUpTo(long cutoff) {
            while (count > 0 && nanos[first] <= cutoff) {
                first = (first + 1) % nanos.length;
                count--;
            }
        }

        /** Adds a time; when full (several requests failed at once), the oldest gives way. */
        void add(long at) {
            if (count == nanos.length) {
                first = (first + 1) % nanos.length;
                count--;
            }
            nanos[(first + count) % nanos.length] = at;
            count++;
        }
    }

    private final int limit;
    private final Duration window;
    private final long windowNanos;
    private final int maxClients;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    /** Failed key checks since start, counted with the limit off too: what an operator alerts on. */
    private final LongAdder failuresSeen = new LongAdder();
    /** Requests whose keys were refused unchecked since start. */
    private final LongAdder refused = new LongAdder();
    /** By client, in order of last failure (the first is the one to forget). Guarded by {@link #lock}. */
    private final LinkedHashMap<String, Failures> clients = new LinkedHashMap<>();

    /**
     * @param limit      failures allowed per client within the window, 0 to {@link #MAX_LIMIT}; 0 turns the limiter
     *                   off
     * @param window     the sliding window, 1 second to 1 day
     * @param maxClients most clients tracked at once, at least 1
     * @param clock      the time of failures and checks
     * @throws IllegalArgumentException when a bound is out of range
     */
    public AuthFailureLimiter(int limit, Duration window, int maxClients, Clock clock) {
        if (limit < 0 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("the limit of failed authentications must be 0 (off) to " + MAX_LIMIT
                    + ", was " + limit);
        }
        Objects.requireNonNull(window, "window");
        if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("the window must be 1 second to 1 day, was " + window);
        }
        if (maxClients < 1) {
            throw new IllegalArgumentException("maxClients must be at least 1, was " + maxClients);
        }
        this.limit = limit;
        this.window = window;
        this.windowNanos = window.toNanos();
        this.maxClients = maxClients;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * @param limit failures allowed per client in {@link #DEFAULT_WINDOW}; 0 turns the limiter off
     * @param clock the time of failures and checks
     * @return a limiter with the default window and number of clients
     */
    public static AuthFailureLimiter of(int limit, Clock clock) {
        return new AuthFailureLimiter(limit, DEFAULT_WINDOW, DEFAULT_MAX_CLIENTS, clock);
    }

    /** @return failures allowed per client within the window; 0 when the limiter is off */
    public int limit() {
        return limit;
    }

    /** @return the sliding window */
    public Duration window() {
        return window;
    }

    /** @return most clients tracked at once */
    public int maxClients() {
        return maxClients;
    }

    /**
     * Asks whether a client's next key may be checked. Call it before checking the key.
     *
     * @param client the client, e.g. its address
     * @return how long the client must wait before a key of it is checked again, rounded up to a whole second;
     *         empty when it may go on
     */
    public Optional<Duration> retryAfter(String client) {
        if (limit == 0) {
            return Optional.empty();
        }
        long now = nanos(clock.instant());
        lock.lock();
        try {
            Failures f = clients.get(client);
            if (f == null) {
                return Optional.empty();
            }
            f.dropUpTo(now - windowNanos);
            if (f.count == 0) {
                clients.remove(client);
                return Optional.empty();
            }
            if (f.count < limit) {
                return Optional.empty();
            }
            long waitNanos = f.oldest() + windowNanos - now;
            long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
            refused.increment();
            return Optional.of(Duration.ofSeconds(seconds));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Counts a failed key check of a client: an invalid, unknown, revoked or expired key (not a missing one).
     *
     * @param client the client, e.g. its address
     */
    public void recordFailure(String client) {
        failuresSeen.increment();
        if (limit == 0) {
            return;
        }
        long now = nanos(clock.instant());
        int count;
        lock.lock();
        try {
            // Removed and put back, so that the map stays in order of last failure.
            Failures f = clients.remove(client);
            if (f == null) {
                f = new Failures(limit);
                if (clients.size() >= maxClients) {
                    Iterator<String> oldest = clients.keySet().iterator();
                    oldest.next();
                    oldest.remove();
                }
            }
            f.dropUpTo(now - windowNanos);
            f.add(now);
            clients.put(client, f);
            count = f.count;
        } finally {
            lock.unlock();
        }
        if (count == limit) {
            // Once per client and window, when it reaches the limit: a guesser does not flood the log.
            LOG.atWarn().addKeyValue("client", client).addKeyValue("failures", count)
                    .addKeyValue("windowSeconds", window.toSeconds())
                    .log("too many failed authentications; refusing the client's keys unchecked for a while");
        }
    }

    /** @return failed key checks counted since this limiter was made, also while the limit is off */
    public long failures() {
        return failuresSeen.sum();
    }

    /**
     * @return how many times {@link #retryAfter(String)} told a caller to refuse a client's key unchecked since this
     *         limiter was made
     */
    public long refusals() {
        return refused.sum();
    }

    /** @return how many clients are tracked now (some of them perhaps with failures that left the window) */
    public int trackedClients() {
        lock.lock();
        try {
            return clients.size();
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds since the epoch: a long holds them until 2262. */
    private static long nanos(Instant at) {
        return Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000_000L), at.getNano());
    }
}
