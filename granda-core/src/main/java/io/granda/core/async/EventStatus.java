package io.granda.core.async;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Where an asynchronous invocation (an event) is, and where it may go from there. The one place the transitions
 * are written down: every store moves an event only along them.
 *
 * <pre>
 *   QUEUED ──▶ RUNNING ──▶ SUCCEEDED
 *     ▲  │        │  └───▶ FAILED ──▶ RUNNING (the next attempt, when due)
 *     │  │        │          └──────▶ DEAD (too old to try again)
 *     │  │        ├──────▶ DEAD (attempts used up, or too old)
 *     │  │        └──────▶ QUEUED (the platform stopped during the attempt: it is run again)
 *     │  └──────────────▶ DEAD (too old, or its function was deleted, before it ran)
 *     └──── DEAD (re-driven)
 * </pre>
 */
public enum EventStatus {
    /** Accepted and waiting to run. */
    QUEUED,
    /** An attempt is under way. */
    RUNNING,
    /** An attempt succeeded. Final. */
    SUCCEEDED,
    /** The last attempt failed; another one is due at the event's {@code nextAttemptAt}. */
    FAILED,
    /** No attempt will be made: retries used up, too old, or its function was deleted. In the dead-letter list. */
    DEAD;

    /** @return whether an event may move from this status to {@code next} */
    public boolean canMoveTo(EventStatus next) {
        return allowedNext().contains(next);
    }

    /** @return the statuses this one may move to */
    public Set<EventStatus> allowedNext() {
        return switch (this) {
            case QUEUED -> EnumSet.of(RUNNING, DEAD);
            case RUNNING -> EnumSet.of(SUCCEEDED, FAILED, DEAD, QUEUED);
            case FAILED -> EnumSet.of(RUNNING, DEAD);
            case SUCCEEDED -> EnumSet.noneOf(EventStatus.class);
            case DEAD -> EnumSet.of(QUEUED);
        };
    }

    /**
     * Checks the arguments of {@link io.granda.core.spi.EventStore#finish}, as every store must.
     *
     * @throws IllegalArgumentException unless {@code status} ends an attempt and only FAILED has a next attempt time
     */
    public static void checkAttemptEnd(EventStatus status, java.time.Instant nextAttemptAt) {
        if (status != SUCCEEDED && status != FAILED && status != DEAD) {
            throw new IllegalArgumentException("an attempt ends succeeded, failed or dead, not " + status);
        }
        if ((status == FAILED) != (nextAttemptAt != null)) {
            throw new IllegalArgumentException("a failed attempt, and only one, has a next attempt time");
        }
    }

    /** @return whether the event waits for an attempt (queued, or failed with another attempt due) */
    public boolean isPending() {
        return this == QUEUED || this == FAILED;
    }

    /** @return whether no further attempt will be made unless someone re-drives it */
    public boolean isFinal() {
        return this == SUCCEEDED || this == DEAD;
    }

    /** @return the name the API uses: lowercase */
    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param name a status as the API names it, any case
     * @return the status
     * @throws IllegalArgumentException for an unknown name
     */
    public static EventStatus fromApiName(String name) {
        for (EventStatus s : values()) {
            if (s.name().equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown status '" + name + "': expected queued, running, succeeded,"
                + " failed or dead");
    }
}
