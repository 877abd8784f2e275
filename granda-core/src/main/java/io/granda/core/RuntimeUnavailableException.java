package io.granda.core;

/**
 * A runtime cannot build right now: none of its base images is present or pullable. This is the platform's
 * configuration, not the function's fault (HTTP 503); the message lists what was tried.
 */
public class RuntimeUnavailableException extends GrandaException {

    public RuntimeUnavailableException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "runtime_unavailable";
    }
}
