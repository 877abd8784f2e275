package io.granda.core.async;

import io.granda.core.InvocationRequest;
import io.granda.core.Outcome;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * An asynchronous invocation: an immutable snapshot of the event as the store holds it.
 *
 * @param id                  the event's id, handed to its sender in the 202 answer
 * @param tenant              the function's tenant
 * @param functionId          the function's stable id: a function deleted and created again is another function
 * @param functionName        the function's name when the event was accepted
 * @param status              where it is
 * @param source              who sent it: {@code api} ({@code POST /functions/{name}/async}), {@code url} (the
 *                            function URL with {@code X-Granda-Invoke: async}), {@code schedule}, or an embedder's word
 * @param request             the call to make: method, path, query, headers and body
 * @param idempotencyKey      the sender's idempotency key, or {@code null}
 * @param callbackUrl         where the result goes when the event is final, or {@code null}
 * @param acceptedAt          when it was durably stored
 * @param attempts            attempts started so far, interrupted ones included
 * @param interruptedAttempts attempts cut short because the platform stopped (they do not count against
 *                            {@link AsyncPolicy#maxAttempts()}: the function may not have run at all)
 * @param failedAttempts      attempts that failed since the event was accepted or last re-driven: what the retry
 *                            policy counts
 * @param nextAttemptAt       when a pending event is due, {@code null} otherwise
 * @param startedAt           when the last attempt started, or {@code null}
 * @param finishedAt          when it became final, or {@code null}
 * @param lastInvocationId    the invocation id (metering record) of the last attempt, or {@code null}
 * @param result              the last attempt's result, or {@code null} before one ended
 * @param error               why the last attempt failed or why the event is dead, or {@code null}
 * @param callbackStatus      what became of the callback: {@code null} (none yet), {@code delivered 200},
 *                            {@code failed: ...}
 */
public record AsyncEvent(
        String id,
        String tenant,
        String functionId,
        String functionName,
        EventStatus status,
        String source,
        InvocationRequest request,
        String idempotencyKey,
        String callbackUrl,
        Instant acceptedAt,
        int attempts,
        int interruptedAttempts,
        int failedAttempts,
        Instant nextAttemptAt,
        Instant startedAt,
        Instant finishedAt,
        String lastInvocationId,
        Result result,
        String error,
        String callbackStatus) {

    public AsyncEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(acceptedAt, "acceptedAt");
        if (attempts < 0 || interruptedAttempts < 0 || failedAttempts < 0
                || interruptedAttempts + failedAttempts > attempts) {
            throw new IllegalArgumentException("attempts " + attempts + ", interrupted " + interruptedAttempts
                    + ", failed " + failedAttempts);
        }
    }

    /** @return the last attempt's result, if one ended */
    public Optional<Result> lastResult() {
        return Optional.ofNullable(result);
    }

    /**
     * What the last attempt of an event gave back.
     *
     * @param outcome     the function's outcome
     * @param httpStatus  the status the function URL would have answered (200 for a successful run-mode call)
     * @param contentType the answer's content type, or {@code null}
     * @param body        the answer, cut to the platform's limit for kept results
     * @param truncated   whether it was cut
     * @param logTail     the end of the call's log
     */
    public record Result(Outcome outcome, int httpStatus, String contentType, byte[] body, boolean truncated,
                         String logTail) {

        public Result {
            Objects.requireNonNull(outcome, "outcome");
            body = Objects.requireNonNullElse(body, new byte[0]);
            logTail = Objects.requireNonNullElse(logTail, "");
        }
    }
}
