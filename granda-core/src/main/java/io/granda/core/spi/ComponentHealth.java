package io.granda.core.spi;

import java.util.Objects;

/**
 * Whether one part of the platform (a store, a backend) works right now: an immutable value.
 *
 * @param up     true when the component answered and can do its job
 * @param detail a short human-readable explanation (a version, or why it is down)
 */
public record ComponentHealth(boolean up, String detail) {

    public ComponentHealth {
        Objects.requireNonNull(detail, "detail");
    }
}
