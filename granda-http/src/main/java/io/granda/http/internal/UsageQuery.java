package io.granda.http.internal;

import io.granda.core.Granularity;
import io.helidon.webserver.http.ServerRequest;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Reads and checks the query parameters of the usage endpoints: the window ({@code since}, {@code until}), the
 * {@code granularity} of a series and the {@code tenant}. Not API.
 */
public final class UsageQuery {

    /** Most buckets one series may have (minute buckets over a week are 10,080: too many). */
    public static final int MAX_BUCKETS = 10_000;
    /** Longest window a CSV export may cover. */
    public static final Duration MAX_EXPORT_WINDOW = Duration.ofDays(366);
    /** Longest tenant name accepted. */
    public static final int MAX_TENANT_LENGTH = 256;

    /** No call starts before this; an earlier {@code since} is moved up to it. */
    static final Instant EARLIEST = Instant.EPOCH;
    /** 10000-01-01T00:00:00Z: a later {@code until} is moved down to it, so that bucket arithmetic cannot overflow. */
    static final Instant LATEST = Instant.ofEpochSecond(253_402_300_800L);

    private UsageQuery() {
    }

    /**
     * A window {@code [since, until)}.
     *
     * @param since inclusive
     * @param until exclusive, after {@code since}
     */
    public record Window(Instant since, Instant until) {

        /** @return this window widened to whole buckets of a granularity */
        public Window widenedTo(Granularity g) {
            return new Window(g.floor(since), g.ceil(until));
        }

        /** @return how long it is */
        public Duration length() {
            return Duration.between(since, until);
        }

        /** @return how many buckets of a granularity it spans, once widened to them */
        public long buckets(Granularity g) {
            Window w = widenedTo(g);
            return Duration.between(w.since, w.until).toSeconds() / g.width().toSeconds();
        }
    }

    /**
     * @param req the request
     * @return the {@code granularity} asked for, empty when none
     * @throws ApiException 400 when it is not minute, hour or day
     */
    public static Optional<Granularity> granularity(ServerRequest req) {
        Optional<String> v = req.query().first("granularity").asOptional();
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Granularity.parse(v.get()));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_request", "granularity", e.getMessage());
        }
    }

    /**
     * The window of a request. {@code until} defaults to now (the current millisecond included); {@code since} to
     * what {@code defaultSince} makes of {@code until}. Both are kept between 1970 and the year 10000.
     *
     * @param req          the request
     * @param now          the current time
     * @param defaultSince from {@code until} to the default {@code since}
     * @return the window
     * @throws ApiException 400 when a bound is no time, or {@code since} is not before {@code until}
     */
    public static Window window(ServerRequest req, Instant now, UnaryOperator<Instant> defaultSince) {
        Instant until = clamp(req.query().first("until").asOptional().map(v -> TimeParams.parse("until", v, now))
                .orElse(now.plusMillis(1)));
        Instant since = clamp(req.query().first("since").asOptional().map(v -> TimeParams.parse("since", v, now))
                .orElseGet(() -> defaultSince.apply(until)));
        if (!since.isBefore(until)) {
            throw ApiException.badRequest("invalid_request", "since",
                    "since (" + since + ") must be before until (" + until + ")");
        }
        return new Window(since, until);
    }

    /**
     * @param g a series' granularity
     * @return what {@code since} defaults to for a series of it: an hour before {@code until} for minutes, a day for
     *         hours, 30 days for days
     */
    public static UnaryOperator<Instant> defaultSeriesSince(Granularity g) {
        Duration span = switch (g) {
            case MINUTE -> Duration.ofHours(1);
            case HOUR -> Duration.ofDays(1);
            case DAY -> Duration.ofDays(30);
        };
        return until -> until.minus(span);
    }

    /**
     * @throws ApiException 400 when the window widened to whole buckets has more than {@link #MAX_BUCKETS}
     */
    public static void checkBuckets(Window w, Granularity g) {
        long buckets = w.buckets(g);
        if (buckets > MAX_BUCKETS) {
            throw ApiException.badRequest("invalid_request", "granularity", "a series of " + buckets + " "
                    + g.apiName() + " buckets is too long: at most " + MAX_BUCKETS + " are answered; shorten the "
                    + "window or use a coarser granularity");
        }
    }

    /**
     * @param req the request
     * @return the {@code tenant} asked for, or {@code null} for every tenant
     * @throws ApiException 400 when it is blank or too long
     */
    public static String tenant(ServerRequest req) {
        Optional<String> v = req.query().first("tenant").asOptional();
        if (v.isEmpty()) {
            return null;
        }
        String t = v.get();
        if (t.isBlank() || t.length() > MAX_TENANT_LENGTH || !t.equals(t.strip())) {
            throw ApiException.badRequest("invalid_request", "tenant", "tenant must be 1 to " + MAX_TENANT_LENGTH
                    + " characters without surrounding spaces, or absent for every tenant");
        }
        return t;
    }

    private static Instant clamp(Instant t) {
        return t.isBefore(EARLIEST) ? EARLIEST : t.isAfter(LATEST) ? LATEST : t;
    }
}
