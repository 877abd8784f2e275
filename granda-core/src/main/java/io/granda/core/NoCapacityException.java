package io.granda.core;

/**
 * No instance could take the call and the wait queue is full.
 */
public class NoCapacityException extends GrandaException {

    public NoCapacityException(String message) {
        super(message);
    }

    public NoCapacityException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "no_capacity";
    }
}
