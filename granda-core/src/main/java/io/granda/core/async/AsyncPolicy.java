package io.granda.core.async;

import io.granda.core.CronSchedule;
import io.granda.core.InvalidFunctionSpecException;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How a function's asynchronous invocations (events) are run: an immutable value, kept per function.
 *
 * <p>An attempt fails when the function fails (error, timeout, out of memory, a 5xx answer of a hot function) or the
 * platform cannot run it (no capacity, engine down). A failed event is tried again after a backoff that doubles from
 * {@code initialBackoff} up to {@code maxBackoff}, until {@code maxAttempts} attempts were made or the event is older
 * than {@code maxEventAge}; then it is dead: kept in the dead-letter list until it is re-driven or purged.
 *
 * @param maxAttempts    attempts per event, 1 (no retry) to 10; default 3
 * @param initialBackoff wait before the second attempt, 0 to 1 hour; default 1 s
 * @param maxBackoff     longest wait between attempts, at least {@code initialBackoff}, at most 1 hour; default 5 min
 * @param maxEventAge    an event not succeeded this long after it was accepted is dead, 1 s to 7 days; default 6 h
 * @param concurrency    most events of this function running at once, 1 to 1000; default 10. Sync calls are not
 *                       counted: the limit keeps a flood of events from taking every instance sync calls need.
 * @param schedule       a cron schedule ({@link CronSchedule}) whose firings are events, or {@code null}
 * @param callbackUrl    where each finished event's result is POSTed (http or https), or {@code null}; an event's
 *                       own callback overrides it
 */
public record AsyncPolicy(
        int maxAttempts,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxEventAge,
        int concurrency,
        String schedule,
        String callbackUrl) {

    // Before DEFAULTS: the constructor that makes it reads them.
    private static final Duration MAX_BACKOFF = Duration.ofHours(1);
    private static final Duration MAX_AGE = Duration.ofDays(7);
    private static final int MAX_URL_LENGTH = 2048;

    /** The policy of a function nobody configured. */
    public static final AsyncPolicy DEFAULTS = new AsyncPolicy(3, Duration.ofSeconds(1), Duration.ofMinutes(5),
            Duration.ofHours(6), 10, null, null);


    /**
     * @throws InvalidFunctionSpecException naming the field (as the HTTP API names it) when a value is out of bounds
     */
    public AsyncPolicy {
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        Objects.requireNonNull(maxEventAge, "maxEventAge");
        if (maxAttempts < 1 || maxAttempts > 10) {
            throw new InvalidFunctionSpecException("maxAttempts", "maxAttempts must be 1 to 10, was " + maxAttempts);
        }
        if (initialBackoff.isNegative() || initialBackoff.compareTo(MAX_BACKOFF) > 0) {
            throw new InvalidFunctionSpecException("initialBackoffMs", "initialBackoffMs must be 0 to 3600000, was "
                    + initialBackoff.toMillis());
        }
        if (maxBackoff.compareTo(initialBackoff) < 0 || maxBackoff.compareTo(MAX_BACKOFF) > 0) {
            throw new InvalidFunctionSpecException("maxBackoffMs", "maxBackoffMs must be at least initialBackoffMs ("
                    + initialBackoff.toMillis() + ") and at most 3600000, was " + maxBackoff.toMillis());
        }
        if (maxEventAge.compareTo(Duration.ofSeconds(1)) < 0 || maxEventAge.compareTo(MAX_AGE) > 0) {
            throw new InvalidFunctionSpecException("maxEventAgeSeconds", "maxEventAgeSeconds must be 1 to 604800, was "
                    + maxEventAge.toSeconds());
        }
        if (concurrency < 1 || concurrency > 1000) {
            throw new InvalidFunctionSpecException("concurrency", "concurrency must be 1 to 1000, was " + concurrency);
        }
        if (schedule != null) {
            schedule = schedule.strip();
            if (schedule.isEmpty()) {
                schedule = null;
            } else {
                try {
                    CronSchedule.parse(schedule);
                } catch (IllegalArgumentException e) {
                    throw new InvalidFunctionSpecException("schedule", e.getMessage());
                }
            }
        }
        if (callbackUrl != null) {
            callbackUrl = callbackUrl.strip();
            callbackUrl = callbackUrl.isEmpty() ? null : checkCallbackUrl("callbackUrl", callbackUrl);
        }
    }

    /**
     * @param field the field to name in the error
     * @param url   a callback URL
     * @return the URL when it is an absolute http or https URL with a host
     * @throws InvalidFunctionSpecException otherwise
     */
    public static String checkCallbackUrl(String field, String url) {
        if (url.length() > MAX_URL_LENGTH) {
            throw new InvalidFunctionSpecException(field, field + " is longer than " + MAX_URL_LENGTH + " characters");
        }
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new InvalidFunctionSpecException(field, field + " must be an absolute http or https URL with a"
                        + " host, was '" + url + "'");
            }
            return url;
        } catch (URISyntaxException e) {
            throw new InvalidFunctionSpecException(field, field + " is not a valid URL: " + e.getMessage());
        }
    }

    /** @return the parsed schedule, empty when there is none */
    public Optional<CronSchedule> cron() {
        return schedule == null ? Optional.empty() : Optional.of(CronSchedule.parse(schedule));
    }

    /**
     * @param failedAttempts attempts that failed so far, at least 1
     * @return the wait before the next attempt: {@code initialBackoff * 2^(failedAttempts-1)}, at most
     *         {@code maxBackoff}
     */
    public Duration backoffAfter(int failedAttempts) {
        int doublings = Math.max(0, Math.min(failedAttempts - 1, 30));
        long millis = initialBackoff.toMillis();
        long scaled = doublings >= 62 || millis > (Long.MAX_VALUE >> doublings) ? Long.MAX_VALUE : millis << doublings;
        return Duration.ofMillis(Math.min(scaled, maxBackoff.toMillis()));
    }
}
