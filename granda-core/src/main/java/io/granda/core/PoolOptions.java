package io.granda.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Platform-wide settings of the warm pool that serves hot functions: an immutable value. Per-function scaling is in
 * each function's {@link ScalingPolicy}.
 *
 * @param maxInstancesTotal most hot instances of all functions at once (default 100)
 * @param queueCapacity     calls of one function that may wait for an instance; one more is refused with 429
 *                          (default 256)
 * @param maxQueueWait      longest a call waits for an instance before it is refused with 429 (default 10 s)
 * @param startTimeout      longest an instance may take to become ready (default 10 s)
 * @param maintenancePeriod how often idle instances are expired and minimums topped up (default 1 s)
 */
public record PoolOptions(
        int maxInstancesTotal,
        int queueCapacity,
        Duration maxQueueWait,
        Duration startTimeout,
        Duration maintenancePeriod) {

    /** The defaults. */
    public static final PoolOptions DEFAULTS =
            new PoolOptions(100, 256, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(1));

    public PoolOptions {
        Objects.requireNonNull(maxQueueWait, "maxQueueWait");
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(maintenancePeriod, "maintenancePeriod");
        if (maxInstancesTotal < 1 || queueCapacity < 1) {
            // A call that finds no free instance waits in the queue while one starts: with no room there, nothing
            // but prewarmed instances could ever serve.
            throw new IllegalArgumentException("maxInstancesTotal and queueCapacity must be positive");
        }
        if (maxQueueWait.isNegative() || startTimeout.isNegative() || startTimeout.isZero()
                || maintenancePeriod.isNegative() || maintenancePeriod.isZero()) {
            throw new IllegalArgumentException("pool durations must be positive");
        }
    }

    /** @return a copy with another start timeout */
    public PoolOptions withStartTimeout(Duration value) {
        return new PoolOptions(maxInstancesTotal, queueCapacity, maxQueueWait, value, maintenancePeriod);
    }

    /** @return a copy with another total maximum */
    public PoolOptions withMaxInstancesTotal(int value) {
        return new PoolOptions(value, queueCapacity, maxQueueWait, startTimeout, maintenancePeriod);
    }

    /** @return a copy with another queue capacity and wait */
    public PoolOptions withQueue(int capacity, Duration maxWait) {
        return new PoolOptions(maxInstancesTotal, capacity, maxWait, startTimeout, maintenancePeriod);
    }

    /** @return a copy with another maintenance period */
    public PoolOptions withMaintenancePeriod(Duration value) {
        return new PoolOptions(maxInstancesTotal, queueCapacity, maxQueueWait, startTimeout, value);
    }
}
