package io.granda.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How a hot function's instances scale: an immutable value. Ignored by run-mode functions, which start one container
 * per call.
 *
 * @param keepAlive    how long an idle instance is kept before it is removed (scale to zero after this)
 * @param minInstances instances kept running even when idle (prewarmed), never removed for idleness
 * @param maxInstances most instances of the function at once
 * @param concurrency  most calls one instance serves at once
 */
public record ScalingPolicy(Duration keepAlive, int minInstances, int maxInstances, int concurrency) {

    /** Keep idle instances 5 minutes, no prewarming, up to 10 instances, one call per instance at a time. */
    public static final ScalingPolicy DEFAULT = new ScalingPolicy(Duration.ofMinutes(5), 0, 10, 1);

    public ScalingPolicy {
        Objects.requireNonNull(keepAlive, "keepAlive");
    }

    /** @return a copy with another keep-alive */
    public ScalingPolicy withKeepAlive(Duration value) {
        return new ScalingPolicy(value, minInstances, maxInstances, concurrency);
    }

    /** @return a copy with another minimum */
    public ScalingPolicy withMinInstances(int value) {
        return new ScalingPolicy(keepAlive, value, maxInstances, concurrency);
    }

    /** @return a copy with another maximum */
    public ScalingPolicy withMaxInstances(int value) {
        return new ScalingPolicy(keepAlive, minInstances, value, concurrency);
    }

    /** @return a copy with another per-instance concurrency */
    public ScalingPolicy withConcurrency(int value) {
        return new ScalingPolicy(keepAlive, minInstances, maxInstances, value);
    }
}
