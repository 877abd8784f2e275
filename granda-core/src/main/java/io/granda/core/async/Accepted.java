package io.granda.core.async;

import java.util.Objects;

/**
 * The answer to accepting an event.
 *
 * @param event     the stored event: the new one, or the one accepted before with the same idempotency key
 * @param duplicate true when the idempotency key matched an event accepted within the window, so nothing was stored
 */
public record Accepted(AsyncEvent event, boolean duplicate) {

    public Accepted {
        Objects.requireNonNull(event, "event");
    }
}
