package io.granda.core;

import io.granda.core.build.SourceLimits;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the builds that turn source code into function images: an immutable value.
 *
 * @param maxConcurrentBuilds builds that may run at once; more wait their turn (default 2)
 * @param timeout             longest one build may take (default 10 min)
 * @param network             whether builds may reach the network to install dependencies (default true; function
 *                            containers never have network either way)
 * @param sourceLimits        how big a function's source may be
 * @param recentBuilds        how many recent builds (and their logs) are kept in memory to be looked at (default 200)
 */
public record BuildOptions(int maxConcurrentBuilds, Duration timeout, boolean network, SourceLimits sourceLimits,
                           int recentBuilds) {

    /** The defaults. */
    public static final BuildOptions DEFAULTS =
            new BuildOptions(2, Duration.ofMinutes(10), true, SourceLimits.DEFAULTS, 200);

    public BuildOptions {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(sourceLimits, "sourceLimits");
        if (maxConcurrentBuilds < 1 || recentBuilds < 1 || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("build concurrency, timeout and history must be positive");
        }
    }
}
