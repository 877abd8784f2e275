package io.granda.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What one recent call of a function left behind for whoever debugs it: its outcome, the HTTP status its caller got
 * and the end of its log. Kept in memory only, for the last calls of each function ({@link Granda#recentLogs}); the
 * billing record of the same call is its {@link InvocationRecord}. An immutable value.
 *
 * @param invocationId the call's id, the same as its {@link InvocationRecord}'s
 * @param functionName the function's name
 * @param revision     the revision that served the call
 * @param start        when the platform accepted the call
 * @param end          when the platform had the function's answer
 * @param outcome      what became of the call
 * @param status       the HTTP status a caller of the function's URL got: the function's own status in hot mode when
 *                     it answered, else 200 for a success, 502 for a failure or running out of memory, 504 for a
 *                     timeout
 * @param exitCode     the process's exit code, {@link InvocationResult#NO_EXIT_CODE} when there was none
 * @param cold         true when the call waited for an instance to start
 * @param logTail      the end of the call's log: stderr in run mode; in hot mode what Granda saw go wrong, or, for a
 *                     5xx answer without a log of its own, the end of that answer (the runtimes' shims put the
 *                     traceback there); empty when there is nothing
 */
public record CallLog(
        String invocationId,
        String functionName,
        long revision,
        Instant start,
        Instant end,
        Outcome outcome,
        int status,
        int exitCode,
        boolean cold,
        String logTail) {

    public CallLog {
        Objects.requireNonNull(invocationId, "invocationId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(outcome, "outcome");
        logTail = Objects.requireNonNullElse(logTail, "");
    }

    /** @return wall time from accepting the call to having the answer */
    public Duration duration() {
        return Duration.between(start, end);
    }

    /**
     * @param result      a call's result
     * @param maxLogChars how much of the end of the log to keep at most
     * @return what is kept of it
     */
    public static CallLog of(InvocationResult result, int maxLogChars) {
        String log = result.logTail();
        if (log.isEmpty() && result.outcome().isFailure() && result.httpStatus() >= 500 && result.output().length > 0) {
            // Only the end of the answer is decoded: it may be megabytes (a UTF-8 character is at most 4 bytes).
            byte[] out = result.output();
            int from = (int) Math.max(0, out.length - 4L * maxLogChars);
            log = new String(out, from, out.length - from, java.nio.charset.StandardCharsets.UTF_8);
        }
        if (log.length() > maxLogChars) {
            log = log.substring(log.length() - maxLogChars);
        }
        return new CallLog(result.invocationId(), result.functionName(), result.revision(), result.timings().start(),
                result.timings().end(), result.outcome(), statusOf(result), result.exitCode(), result.cold(), log);
    }

    /** @return the HTTP status a caller of the function's URL got for this result */
    public static int statusOf(InvocationResult result) {
        if (result.httpStatus() > 0) {
            return result.httpStatus();
        }
        return switch (result.outcome()) {
            case SUCCESS -> 200;
            case FUNCTION_ERROR, OUT_OF_MEMORY -> 502;
            case TIMEOUT -> 504;
        };
    }
}
