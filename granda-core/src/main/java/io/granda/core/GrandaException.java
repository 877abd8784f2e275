package io.granda.core;

/**
 * Base of every platform-side failure: the request could not be carried out. A function that runs and fails is
 * not an exception but an {@link Outcome}; keeping the two apart lets callers answer "your function failed"
 * (502) and "the platform could not run it" (4xx/503) differently.
 *
 * <p>Each subclass has a stable machine-readable {@link #code()} that the HTTP API returns as {@code error}.
 */
public abstract class GrandaException extends RuntimeException {

    protected GrandaException(String message) {
        super(message);
    }

    protected GrandaException(String message, Throwable cause) {
        super(message, cause);
    }

    /** @return a stable, machine-readable error code such as {@code function_not_found} */
    public abstract String code();
}
