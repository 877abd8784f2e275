package io.granda.core.async;

import java.util.Locale;

/**
 * Hears what became of asynchronous invocations (events), for views such as metrics. Registered with
 * {@link GrandaEvents.Builder#listener(AsyncEventListener)}, the way a {@link io.granda.core.spi.PlatformListener} is
 * registered with Granda: the core tells, the listener counts, and the core needs no metrics library.
 *
 * <p>Every call reports a change the {@link io.granda.core.spi.EventStore} has recorded, once: an attempt whose end
 * lost a race (the event had moved on) is not reported, so totals kept from these calls agree with the store.
 * Calls come from the dispatcher and attempt threads and must return quickly, with no I/O; an exception is logged and
 * ignored, never passed on. Every method has a no-op default. Implementations must be thread-safe.
 */
public interface AsyncEventListener {

    /**
     * An attempt ended and its end was recorded.
     *
     * @param event   for {@link AttemptOutcome#SUCCEEDED} and {@link AttemptOutcome#FAILED}, the event as it now is
     *                (succeeded, failed with a retry due, or dead); for {@link AttemptOutcome#INTERRUPTED}, as it was
     *                found running when the platform started again
     * @param outcome how it ended
     */
    default void attemptEnded(AsyncEvent event, AttemptOutcome outcome) {
    }

    /**
     * An event became dead: no attempt will be made unless it is re-driven. Reported each time, so an event re-driven
     * and dead again is reported twice.
     *
     * @param event  the dead event
     * @param reason why
     */
    default void eventDead(AsyncEvent event, DeadReason reason) {
    }

    /**
     * The callback of a final event was sent, after its retries.
     *
     * @param event     the event
     * @param delivered whether the receiver answered 2xx
     * @param outcome   what was recorded as the event's {@code callbackStatus}, e.g. {@code delivered 200}
     */
    default void callbackEnded(AsyncEvent event, boolean delivered, String outcome) {
    }

    /**
     * A schedule fired: the event of one firing was stored. A firing stored already (the same moment fired again
     * after a restart) is not reported.
     *
     * @param event the queued event of the firing
     */
    default void scheduleFired(AsyncEvent event) {
    }

    /** How an attempt ended. */
    enum AttemptOutcome {
        /** The function succeeded: the event is final. */
        SUCCEEDED,
        /** The function or the platform failed; a retry is due, or the event is dead. */
        FAILED,
        /**
         * The platform stopped during the attempt (a crash, or a shutdown whose grace ran out). Known only when it
         * starts again and queues the event again: the attempt is counted in {@link AsyncEvent#interruptedAttempts()},
         * not against the retry policy.
         */
        INTERRUPTED;

        /** @return the lowercase name metrics and logs use */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Why an event is dead: a fixed set, so that it can be a metric label. */
    enum DeadReason {
        /** Its last allowed attempt ({@link AsyncPolicy#maxAttempts()}) failed. */
        ATTEMPTS_EXHAUSTED,
        /** It grew older than {@link AsyncPolicy#maxEventAge()} before an attempt, or its next attempt would. */
        TOO_OLD,
        /** Its function was deleted before it could run. */
        FUNCTION_DELETED,
        /** Its payload is over the platform's limit (the limit was lowered after it was accepted). */
        PAYLOAD_TOO_LARGE;

        /** @return the lowercase name metrics and logs use */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
