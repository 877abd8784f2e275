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
 * @param removeUnusedImages  whether images Granda built are removed once no function revision uses them: those of
 *                            replaced revisions and deleted functions (default true); otherwise every revision's image
 *                            stays until an operator removes it
 * @param unusedImageGrace    how old an unused built image must be before it is removed (default 10 min): a margin
 *                            for clocks and for whatever else may still be starting from it
 */
public record BuildOptions(int maxConcurrentBuilds, Duration timeout, boolean network, SourceLimits sourceLimits,
                           int recentBuilds, boolean removeUnusedImages, Duration unusedImageGrace) {

    /** The defaults. */
    public static final BuildOptions DEFAULTS =
            new BuildOptions(2, Duration.ofMinutes(10), true, SourceLimits.DEFAULTS, 200, true, Duration.ofMinutes(10));

    public BuildOptions {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(sourceLimits, "sourceLimits");
        Objects.requireNonNull(unusedImageGrace, "unusedImageGrace");
        if (maxConcurrentBuilds < 1 || recentBuilds < 1 || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("build concurrency, timeout and history must be positive");
        }
        if (unusedImageGrace.isNegative()) {
            throw new IllegalArgumentException("unusedImageGrace must not be negative, was " + unusedImageGrace);
        }
    }

    /** Settings with the default removal of unused images (see {@link #DEFAULTS}). */
    public BuildOptions(int maxConcurrentBuilds, Duration timeout, boolean network, SourceLimits sourceLimits,
                        int recentBuilds) {
        this(maxConcurrentBuilds, timeout, network, sourceLimits, recentBuilds, DEFAULTS.removeUnusedImages,
                DEFAULTS.unusedImageGrace);
    }

    /** @return a copy with another policy for images no function uses */
    public BuildOptions withUnusedImages(boolean remove, Duration grace) {
        return new BuildOptions(maxConcurrentBuilds, timeout, network, sourceLimits, recentBuilds, remove, grace);
    }
}
