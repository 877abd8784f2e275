package io.granda.core.spi;

import java.util.Objects;

/**
 * Whether a backend can run functions right now: an immutable value.
 *
 * @param up     true when the backend answered
 * @param detail a short human-readable explanation (engine version, or why it is down)
 */
public record BackendHealth(boolean up, String detail) {

    public BackendHealth {
        Objects.requireNonNull(detail, "detail");
    }
}
