package io.granda.core;

import java.time.Instant;
import java.util.Objects;

/**
 * Usage in one bucket of a series: an immutable value.
 *
 * @param start the bucket's start (UTC-aligned to its {@link Granularity})
 * @param usage totals of the calls that started in the bucket
 */
public record UsageBucket(Instant start, UsageSummary usage) {

    public UsageBucket {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(usage, "usage");
    }
}
