package io.granda.core.spi;

import io.granda.core.BackendUnavailableException;
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
