package io.granda.core;

/**
 * An update named a revision that is no longer the current one.
 */
public class RevisionConflictException extends GrandaException {

    public RevisionConflictException(String message) {
        super(message);
    }

    public RevisionConflictException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "revision_conflict";
    }
}
