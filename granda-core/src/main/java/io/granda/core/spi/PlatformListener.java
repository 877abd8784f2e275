package io.granda.core.spi;

import io.granda.core.BuildInfo;
import io.granda.core.InvocationRecord;

import java.util.List;

/**
 * Hears what the platform did, for views such as metrics. Registered with
 * {@link io.granda.core.Granda.Builder#listener(PlatformListener)}.
 *
 * <p>Calls come from Granda's own threads and must return quickly; an exception is logged and ignored, never passed
 * to a caller. Every method has a no-op default.
 */
public interface PlatformListener {

    /**
     * Records the metering store has just stored for the first time, in one batch. A record is passed once, after it
     * is durable, and never again (a duplicate invocation id is not passed), so totals kept from these agree with the
     * store's.
     *
     * @param records the newly stored records
     */
    default void invocationsStored(List<InvocationRecord> records) {
    }

    /**
     * A build ended, in success or failure.
     *
     * @param build the finished build
     */
    default void buildFinished(BuildInfo build) {
    }
}
