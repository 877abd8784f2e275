package io.granda.core;

import java.util.Objects;

/**
 * A hot instance did not become ready: its process exited, or did not open its socket within the start timeout.
 * The instance has been removed. This is the function's fault (its image does not serve the hot protocol), so the
 * HTTP API answers 502.
 */
public class FunctionNotReadyException extends GrandaException {

    private final String logTail;

    /**
     * @param message what happened, e.g. "function 'x' did not become ready within 10 s"
     * @param logTail the end of the instance's output, possibly empty
     */
    public FunctionNotReadyException(String message, String logTail) {
        super(message);
        this.logTail = Objects.requireNonNullElse(logTail, "");
    }

    /** @return the end of the instance's output, to see why it did not start */
    public String logTail() {
        return logTail;
    }

    @Override
    public String code() {
        return "function_not_ready";
    }
}
