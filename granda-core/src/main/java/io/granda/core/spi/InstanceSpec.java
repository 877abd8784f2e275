package io.granda.core.spi;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Backend} needs to start one hot instance: an immutable value. See docs/hot-functions.md for what the
 * instance sees.
 *
 * @param instanceId   unique id of the instance, chosen by Granda; also given to the process as GRANDA_INSTANCE
 * @param functionId   the function's stable id, for labels
 * @param functionName the function's name, for labels and GRANDA_FUNCTION
 * @param revision     the revision the instance serves, for labels and GRANDA_REVISION
 * @param image        the image to run
 * @param env          the function's environment (Granda adds its GRANDA_* variables)
 * @param memoryMb     memory limit, in MiB, without swap
 * @param startTimeout longest wait for the instance to become ready
 */
public record InstanceSpec(
        String instanceId,
        String functionId,
        String functionName,
        long revision,
        String image,
        Map<String, String> env,
        int memoryMb,
        Duration startTimeout) {

    public InstanceSpec {
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(startTimeout, "startTimeout");
        env = Map.copyOf(Objects.requireNonNullElse(env, Map.of()));
        if (memoryMb <= 0) {
            throw new IllegalArgumentException("memoryMb must be positive");
        }
    }
}
