package io.granda.core.spi;

import io.granda.core.BackendUnavailableException;
import io.granda.core.FunctionNotReadyException;
import io.granda.core.ImageUnavailableException;

import java.util.Set;

/**
 * A runtime backend: what actually runs function instances (Docker today; runc, Swarm or Kubernetes later).
 * Nothing backend-specific leaks past this interface.
 *
 * <p>Implementations must be thread-safe. Every instance a backend creates carries the owner id it was configured
 * with, so that {@link #reapLeftovers()} can remove what a crashed process left behind without touching anyone
 * else's. Optional abilities are declared by {@link #capabilities()}; a caller never calls a method whose capability
 * is absent.
 */
public interface Backend extends AutoCloseable {

    /** @return a short name for logs and configuration, e.g. {@code docker} */
    String name();

    /** @return what this backend can do */
    Set<BackendCapability> capabilities();

    /**
     * Makes sure an image is present, pulling it when it is not (if {@link BackendCapability#PULL_IMAGES}).
     *
     * @param image an image reference
     * @return the prepared image
     * @throws ImageUnavailableException   when the image is absent and cannot be pulled; the message names the image
     *                                     and the cause
     * @throws BackendUnavailableException when the backend cannot be reached
     */
    PreparedImage prepare(String image);

    /**
     * Runs one call in a fresh instance and removes the instance afterwards, whatever happens. Requires
     * {@link BackendCapability#RUN_ONCE}. Blocks for up to the request's timeout plus start and teardown time.
     *
     * @param request the call
     * @return how the process ended, its output and timings; a failing process is a result, not an exception
     * @throws ImageUnavailableException   when the image is absent and cannot be pulled
     * @throws BackendUnavailableException when the backend cannot be reached or fails to create the instance
     */
    RunOnceResult runOnce(RunOnceRequest request);

    /**
     * Starts one hot instance and waits until it is ready: its socket exists and accepts a connection (see
     * docs/hot-functions.md). Requires {@link BackendCapability#HOT_INSTANCES}. Pulls a missing image first.
     *
     * @param spec what to start
     * @return the ready instance, with its socket and how long each phase took
     * @throws FunctionNotReadyException   when the process exited or did not open its socket within the start timeout;
     *                                     the instance has been removed
     * @throws ImageUnavailableException   when the image is absent and cannot be pulled
     * @throws BackendUnavailableException when the backend cannot be reached or refuses to create the instance
     */
    default HotInstance startInstance(InstanceSpec spec) {
        throw new UnsupportedOperationException(name() + " has no hot instances");
    }

    /**
     * Removes a hot instance, killing its process, and releases what the backend kept for it (its socket directory).
     * Idempotent; bounded by the backend's own teardown timeout, never the caller's deadline. Never throws: an instance
     * that could not be removed keeps its owner label and is removed by {@link #reapLeftovers()}.
     *
     * @param instance the instance
     */
    default void destroyInstance(HotInstance instance) {
        throw new UnsupportedOperationException(name() + " has no hot instances");
    }

    /**
     * The end of what an instance wrote to its stdout and stderr, to explain a crash. Best effort: never throws.
     *
     * @param instance the instance, possibly already gone
     * @param maxBytes how much of the end to return at most
     * @return the end of its output, empty when unknown
     */
    default String logTail(HotInstance instance, int maxBytes) {
        return "";
    }

    /**
     * Whether the kernel killed a process of a hot instance for exceeding its memory limit. Granda asks after a call
     * whose connection the instance closed before answering, and before it removes the instance, so that the call is
     * reported as out of memory rather than as a crash. Best effort: may wait briefly for the backend to learn how the
     * process ended, bounded by the backend's own timeout, never the caller's deadline; never throws.
     *
     * @param instance the instance, possibly no longer running
     * @return true when a process of the instance was killed for memory; false when not, or when unknown (the
     *         default, for backends that cannot tell)
     */
    default boolean killedForMemory(HotInstance instance) {
        return false;
    }

    /**
     * A meter of the CPU time a hot instance uses, read before and after each call it serves alone. Called once per
     * instance, right after it started.
     *
     * @param instance a started instance
     * @return its meter, {@link CpuMeter#UNKNOWN} (the default) when the backend cannot read CPU time
     */
    default CpuMeter cpuMeter(HotInstance instance) {
        return CpuMeter.UNKNOWN;
    }

    /**
     * Freezes an idle instance so that it uses no CPU; requires {@link BackendCapability#PAUSE}.
     *
     * @param instance a ready, idle instance
     * @throws BackendUnavailableException when the backend fails
     */
    default void pauseInstance(HotInstance instance) {
        throw new UnsupportedOperationException(name() + " cannot pause");
    }

    /**
     * Thaws a paused instance; requires {@link BackendCapability#PAUSE}.
     *
     * @param instance a paused instance
     * @throws BackendUnavailableException when the backend fails
     */
    default void resumeInstance(HotInstance instance) {
        throw new UnsupportedOperationException(name() + " cannot pause");
    }

    /**
     * Removes every instance labelled with this backend's owner id, whatever its state. Called at start-up to clean
     * up after a crash, and at shutdown.
     *
     * @return how many instances were removed
     * @throws BackendUnavailableException when the backend cannot be reached
     */
    int reapLeftovers();

    /** @return whether the backend can run functions now; never throws */
    ComponentHealth health();

    /**
     * Removes every instance this backend still owns and releases its resources. Idempotent.
     */
    @Override
    void close();
}
