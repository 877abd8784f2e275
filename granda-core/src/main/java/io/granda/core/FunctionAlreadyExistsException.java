package io.granda.core;

/**
 * A function with that name already exists.
 */
public class FunctionAlreadyExistsException extends GrandaException {

    public FunctionAlreadyExistsException(String message) {
        super(message);
    }

    public FunctionAlreadyExistsException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "function_exists";
    }
}
