package io.granda.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * The width of the buckets a usage series is cut into. Buckets are aligned to UTC: a minute starts at :00 seconds, an
 * hour at :00, a day at midnight UTC, so the same window always gives the same buckets.
 */
public enum Granularity {
    MINUTE(Duration.ofMinutes(1)),
    HOUR(Duration.ofHours(1)),
    DAY(Duration.ofDays(1));

    private final Duration width;

    Granularity(Duration width) {
        this.width = width;
    }

    /** @return how long one bucket is */
    public Duration width() {
        return width;
    }

    /**
     * @param t an instant
     * @return the start of the bucket holding {@code t}
     */
    public Instant floor(Instant t) {
        long w = width.toSeconds();
        return Instant.ofEpochSecond(Math.floorDiv(t.getEpochSecond(), w) * w);
    }

    /**
     * @param t an instant
     * @return {@code t} if it starts a bucket, else the start of the next bucket
     */
    public Instant ceil(Instant t) {
        Instant f = floor(t);
        return f.equals(t) ? t : f.plus(width);
    }

    /**
     * @param text {@code minute}, {@code hour} or {@code day}, in any case
     * @return the granularity
     * @throws IllegalArgumentException for anything else
     */
    public static Granularity parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("granularity '" + text + "' is unknown: use minute, hour or day");
        }
    }

    /** @return the lower-case name used in the HTTP API */
    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
