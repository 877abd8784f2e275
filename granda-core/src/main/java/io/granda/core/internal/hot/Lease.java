package io.granda.core.internal.hot;

import java.time.Duration;
import java.util.Objects;

/**
 * The right to send one call to one instance, from {@link WarmPool#acquire} until {@link WarmPool#release}. Not API.
 *
 * @param instance    the instance to call
 * @param cold        true when the caller waited for this instance to be started
 * @param queueWait   time waiting beyond the instance's own start (zero for an instance that was free)
 * @param imagePull   image pull of a cold start, else zero
 * @param createStart create+start of a cold start, else zero
 * @param init        init (until ready) of a cold start, else zero
 */
public record Lease(PooledInstance instance, boolean cold, Duration queueWait, Duration imagePull,
                    Duration createStart, Duration init) {

    public Lease {
        Objects.requireNonNull(instance, "instance");
    }
}
