package io.granda.core;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The function's answer to one call: an immutable value (the output array is not copied on access).
 *
 * @param invocationId    the call's id, the same as its {@link InvocationRecord}
 * @param functionId      the function's stable id
 * @param functionName    the function's name
 * @param revision        the revision that served the call
 * @param outcome         what became of the call
 * @param exitCode        the process exit code, {@code -1} when there was none (timeout before exit, hot mode)
 * @param httpStatus      the status of the function's own HTTP answer (hot mode), {@code 0} when it gave none
 *                        (run mode, or a hot instance that crashed or timed out)
 * @param headers         the headers of the function's own HTTP answer (hot mode), empty otherwise
 * @param output          the function's output (stdout in run mode), possibly truncated
 * @param outputTruncated true when the output exceeded the platform's limit and was cut
 * @param logTail         the last part of the function's log (stderr in run mode)
 * @param timings         where the time went
 * @param cpuMicros       CPU time the function used, {@code -1} when the backend cannot tell
 * @param cold            true when an instance had to be started for this call
 */
public record InvocationResult(
        String invocationId,
        String functionId,
        String functionName,
        long revision,
        Outcome outcome,
        int exitCode,
        int httpStatus,
        Map<String, List<String>> headers,
        byte[] output,
        boolean outputTruncated,
        String logTail,
        InvocationTimings timings,
        long cpuMicros,
        boolean cold) {

    /** Exit code reported when the process never exited on its own. */
    public static final int NO_EXIT_CODE = -1;

    public InvocationResult {
        Objects.requireNonNull(invocationId, "invocationId");
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(timings, "timings");
        output = Objects.requireNonNullElse(output, new byte[0]);
        headers = headers == null || headers.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        logTail = Objects.requireNonNullElse(logTail, "");
    }

    /** @return the output decoded as UTF-8 */
    public String outputAsString() {
        return new String(output, StandardCharsets.UTF_8);
    }

    /** @return the exit code, empty when the process never exited on its own */
    public OptionalInt exitCodeIfAny() {
        return exitCode == NO_EXIT_CODE ? OptionalInt.empty() : OptionalInt.of(exitCode);
    }
}
