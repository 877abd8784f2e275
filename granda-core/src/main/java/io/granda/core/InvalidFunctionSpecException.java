package io.granda.core;

import java.util.Objects;

/**
 * A function spec or request was refused: the value of {@link #field()} is missing or out of bounds. Nothing was
 * created or changed.
 */
public class InvalidFunctionSpecException extends GrandaException {

    private final String field;

    /**
     * @param field   the offending field as the API names it, e.g. {@code timeoutSeconds}
     * @param message what is wrong and what is allowed
     */
    public InvalidFunctionSpecException(String field, String message) {
        super(message);
        this.field = Objects.requireNonNull(field, "field");
    }

    /** @return the offending field as the API names it */
    public String field() {
        return field;
    }

    @Override
    public String code() {
        return "invalid_request";
    }
}
