package io.granda.core.spi;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * One run-mode call handed to a {@link Backend}: an immutable value (the payload array is not copied).
 *
 * @param invocationId   the call's id, for labels and logs
 * @param functionId     the function's stable id, for labels
 * @param functionName   the function's name, for labels and logs
 * @param revision       the revision being run, for labels
 * @param image          image to run
 * @param env            environment of the process
 * @param memoryMb       memory limit, in MiB, without swap
 * @param timeout        longest the process may run once started
 * @param payload        written to stdin, and appended to the image's ENTRYPOINT as its last argument when it can be
 *                       one: not empty, under 128 KiB and without NUL bytes (the limits of a Linux argument)
 * @param maxOutputBytes stdout beyond this many bytes is dropped and reported as truncated
 * @param maxLogBytes    how much of the end of stderr to keep
 */
public record RunOnceRequest(
        String invocationId,
        String functionId,
        String functionName,
        long revision,
        String image,
        Map<String, String> env,
        int memoryMb,
        Duration timeout,
        byte[] payload,
        int maxOutputBytes,
        int maxLogBytes) {

    public RunOnceRequest {
        Objects.requireNonNull(invocationId, "invocationId");
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(timeout, "timeout");
        env = Map.copyOf(Objects.requireNonNullElse(env, Map.of()));
        payload = Objects.requireNonNullElse(payload, new byte[0]);
        if (memoryMb <= 0 || maxOutputBytes <= 0 || maxLogBytes <= 0) {
            throw new IllegalArgumentException("memoryMb, maxOutputBytes and maxLogBytes must be positive");
        }
    }
}
