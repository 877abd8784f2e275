package io.granda.core.internal.hot;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of a hot instance in the warm pool. Every change goes through {@link PooledInstance#moveTo} and is
 * counted; a change this enum does not allow is a bug and throws.
 *
 * <pre>
 * PROVISIONING --ready--> READY <--> BUSY
 *      |                   |  ^        |
 *      |                   v  |        |
 *      |                 PAUSED        |
 *      v                   |           v
 *    GONE <-- REMOVING <---+-----------+
 * </pre>
 */
public enum InstanceState {
    /** Being created and started by the backend; not yet ready. */
    PROVISIONING,
    /** Ready and idle: no call under way. */
    READY,
    /** Serving at least one call. */
    BUSY,
    /** Idle and frozen by the backend (only where the backend can pause and the pool chooses to). */
    PAUSED,
    /** Taking no calls; its removal has begun. */
    REMOVING,
    /** Removed. */
    GONE;

    /** @return the states this one may change to */
    public Set<InstanceState> next() {
        return switch (this) {
            case PROVISIONING -> EnumSet.of(READY, BUSY, REMOVING, GONE);
            case READY -> EnumSet.of(BUSY, PAUSED, REMOVING);
            case BUSY -> EnumSet.of(READY, REMOVING);
            case PAUSED -> EnumSet.of(READY, BUSY, REMOVING);
            case REMOVING -> EnumSet.of(GONE);
            case GONE -> EnumSet.noneOf(InstanceState.class);
        };
    }

    /** @return true when the instance still exists (counts toward limits) */
    public boolean isLive() {
        return this != GONE;
    }
}
