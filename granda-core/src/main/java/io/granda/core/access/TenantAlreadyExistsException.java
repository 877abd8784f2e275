package io.granda.core.access;

import io.granda.core.GrandaException;

/**
 * A tenant of that id exists already, or existed and was deleted (a deleted tenant's id is not given out again).
 */
public class TenantAlreadyExistsException extends GrandaException {

    public TenantAlreadyExistsException(String message) {
        super(message);
    }

    /**
     * @param id        a deleted tenant's id
     * @param deletedAt when it was deleted
     * @return the refusal to create a tenant of that id again
     */
    public static TenantAlreadyExistsException deleted(String id, java.time.Instant deletedAt) {
        return new TenantAlreadyExistsException("a tenant named '" + id + "' existed and was deleted at " + deletedAt
                + "; its name stays with its revoked keys and usage records and is not given out again: choose "
                + "another");
    }

    @Override
    public String code() {
        return "tenant_exists";
    }
}
