package io.granda.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Where a call's time went. Phases that did not happen (no image pull, no queueing, a warm call's start) are
 * {@link Duration#ZERO}.
 *
 * @param start       when the platform accepted the call
 * @param end         when the platform had the function's answer
 * @param queueWait   waiting for capacity
 * @param imagePull   pulling the image because it was missing
 * @param createStart creating and starting the container
 * @param init        from started until ready to serve (hot mode)
 * @param run         the function's own run: the billed part
 */
public record InvocationTimings(
        Instant start,
        Instant end,
        Duration queueWait,
        Duration imagePull,
        Duration createStart,
        Duration init,
        Duration run) {

    public InvocationTimings {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        queueWait = zeroIfNull(queueWait);
        imagePull = zeroIfNull(imagePull);
        createStart = zeroIfNull(createStart);
        init = zeroIfNull(init);
        run = zeroIfNull(run);
    }

    /** @return wall time from accepting the call to having the answer */
    public Duration total() {
        return Duration.between(start, end);
    }

    /** @return time spent bringing up an instance for this call: pull, create+start and init */
    public Duration coldStart() {
        return imagePull.plus(createStart).plus(init);
    }

    private static Duration zeroIfNull(Duration d) {
        return d == null ? Duration.ZERO : d;
    }
}
