package io.granda.core.async;

import io.granda.core.InvocationRequest;

import java.time.Instant;
import java.util.Objects;

/**
 * An event to store: what {@link io.granda.core.spi.EventStore#accept} is given.
 *
 * @param id             the new event's id
 * @param tenant         the function's tenant
 * @param functionId     the function's id
 * @param functionName   the function's name
 * @param source         who sent it (see {@link AsyncEvent#source()})
 * @param request        the call to make
 * @param idempotencyKey the sender's key, or {@code null}
 * @param callbackUrl    where its result goes, or {@code null}
 * @param acceptedAt     now
 */
public record NewEvent(String id, String tenant, String functionId, String functionName, String source,
                       InvocationRequest request, String idempotencyKey, String callbackUrl, Instant acceptedAt) {

    public NewEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(acceptedAt, "acceptedAt");
    }

    /** @return the event as first stored: queued, due at once, no attempt yet */
    public AsyncEvent queued() {
        return new AsyncEvent(id, tenant, functionId, functionName, EventStatus.QUEUED, source, request,
                idempotencyKey, callbackUrl, acceptedAt, 0, 0, 0, acceptedAt, null, null, null, null, null, null);
    }
}
