package io.granda.core.spi;

import io.granda.core.BackendUnavailableException;
import io.granda.core.DeployedFunction;
import io.granda.core.ImageUnavailableException;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.NoCapacityException;

/**
 * Runs one call of a function.
 *
 * <p>The function's own result, success or not, comes back as an {@link InvocationResult}; only a platform failure
 * is thrown. Implementations must be thread-safe and may block the calling thread for up to the function's timeout
 * plus the platform's own overhead.
 */
public interface Invoker {

    /**
     * @param invocationId the id the call's record will carry
     * @param function     the revision to run
     * @param request      the call
     * @return the function's outcome, output and timings
     * @throws BackendUnavailableException when the backend cannot be reached or fails
     * @throws ImageUnavailableException   when the function's image is gone and cannot be pulled
     * @throws NoCapacityException         when no instance can take the call in time
     */
    InvocationResult invoke(String invocationId, DeployedFunction function, InvocationRequest request);
}
