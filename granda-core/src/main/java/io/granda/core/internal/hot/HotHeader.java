package io.granda.core.internal.hot;

import java.util.Objects;

/**
 * One header field of a hot request or response, as a name and a value. Names keep the case they were given or
 * received in; compare them ignoring case. Immutable; thread-safe.
 *
 * @param name  the field name
 * @param value the field value, without leading or trailing whitespace when received
 */
public record HotHeader(String name, String value) {

    public HotHeader {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
