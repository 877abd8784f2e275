package io.granda.core.async;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What waits in the event queue, read from the store at one moment: how many events are in each status that an
 * operator watches, and how long the most overdue pending event has waited. What queue gauges show. Immutable.
 *
 * @param byStatus  events per status: {@link EventStatus#QUEUED}, {@link EventStatus#RUNNING},
 *                  {@link EventStatus#FAILED} and {@link EventStatus#DEAD}, each present, zeros included. Succeeded
 *                  events are not counted: they are the bulk of the store until purged, and nobody alerts on them.
 * @param oldestDue when the pending (queued or failed) event that has been due longest became due, or {@code null}
 *                  when no pending event is due at {@code at}
 * @param at        when it was read
 */
public record EventBacklog(Map<EventStatus, Long> byStatus, Instant oldestDue, Instant at) {

    /** The statuses counted, in the order gauges list them. */
    public static final java.util.List<EventStatus> COUNTED = java.util.List.of(EventStatus.QUEUED,
            EventStatus.RUNNING, EventStatus.FAILED, EventStatus.DEAD);

    public EventBacklog {
        Objects.requireNonNull(at, "at");
        Map<EventStatus, Long> all = new EnumMap<>(EventStatus.class);
        for (EventStatus s : COUNTED) {
            all.put(s, Objects.requireNonNull(byStatus, "byStatus").getOrDefault(s, 0L));
        }
        byStatus = Map.copyOf(all);
    }

    /** @return the events in this status now; 0 for a status not counted (succeeded) */
    public long count(EventStatus status) {
        return byStatus.getOrDefault(status, 0L);
    }

    /**
     * @return how long the most overdue pending event has waited past the moment it became due (for a new event,
     *         since it was accepted; for a retry, since its backoff ended); zero when none is due
     */
    public Duration oldestDueAge() {
        if (oldestDue == null || oldestDue.isAfter(at)) {
            return Duration.ZERO;
        }
        return Duration.between(oldestDue, at);
    }
}
