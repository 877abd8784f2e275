package io.granda.core;

/**
 * The runtime backend (e.g. the Docker engine) cannot be reached or failed.
 */
public class BackendUnavailableException extends GrandaException {

    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "backend_unavailable";
    }
}
