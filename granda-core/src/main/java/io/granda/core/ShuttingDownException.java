package io.granda.core;

/**
 * The platform is shutting down and takes no new calls.
 */
public class ShuttingDownException extends GrandaException {

    public ShuttingDownException(String message) {
        super(message);
    }

    public ShuttingDownException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "shutting_down";
    }
}
