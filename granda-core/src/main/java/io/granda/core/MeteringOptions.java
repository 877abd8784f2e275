package io.granda.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How long metering data is kept, and what it costs: an immutable value.
 *
 * @param recordRetention    raw invocation records older than this are purged (their per-minute aggregates stay)
 * @param aggregateRetention per-minute usage aggregates older than this are purged; at least {@code recordRetention}
 * @param purgeInterval      how often the purge runs
 * @param prices             what calls and GB-seconds cost, for the usage API
 */
public record MeteringOptions(Duration recordRetention, Duration aggregateRetention, Duration purgeInterval,
                              Prices prices) {

    /** Records for 90 days, aggregates for 400 (a year and a bit, for year-on-year bills), purged hourly. */
    public static final MeteringOptions DEFAULTS = new MeteringOptions(Duration.ofDays(90), Duration.ofDays(400),
            Duration.ofHours(1), Prices.DEFAULTS);

    public MeteringOptions {
        Objects.requireNonNull(recordRetention, "recordRetention");
        Objects.requireNonNull(aggregateRetention, "aggregateRetention");
        Objects.requireNonNull(purgeInterval, "purgeInterval");
        Objects.requireNonNull(prices, "prices");
        if (recordRetention.isNegative() || recordRetention.isZero()) {
            throw new IllegalArgumentException("recordRetention must be positive, was " + recordRetention);
        }
        if (aggregateRetention.compareTo(recordRetention) < 0) {
            // Usage beyond the raw records is answered from aggregates: they must outlive the records.
            throw new IllegalArgumentException("aggregateRetention " + aggregateRetention
                    + " must be at least recordRetention " + recordRetention);
        }
        if (purgeInterval.isNegative() || purgeInterval.isZero()) {
            throw new IllegalArgumentException("purgeInterval must be positive, was " + purgeInterval);
        }
    }

    /** @return these options with other prices */
    public MeteringOptions withPrices(Prices p) {
        return new MeteringOptions(recordRetention, aggregateRetention, purgeInterval, p);
    }
}
