package io.granda.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One page of a longer listing: an immutable value.
 *
 * @param items      the items on this page, in the listing's order
 * @param nextCursor opaque cursor for the next page, {@code null} on the last page
 * @param <T>        item type
 */
public record Page<T>(List<T> items, String nextCursor) {

    public Page {
        items = List.copyOf(Objects.requireNonNull(items, "items"));
    }

    /** @return the cursor of the next page, empty on the last page */
    public Optional<String> next() {
        return Optional.ofNullable(nextCursor);
    }
}
