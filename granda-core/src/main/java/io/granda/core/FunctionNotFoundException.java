package io.granda.core;

/**
 * No function of that name or route exists.
 */
public class FunctionNotFoundException extends GrandaException {

    public FunctionNotFoundException(String message) {
        super(message);
    }

    public FunctionNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "function_not_found";
    }
}
