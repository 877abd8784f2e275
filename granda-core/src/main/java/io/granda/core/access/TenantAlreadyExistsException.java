package io.granda.core.access;

import io.granda.core.GrandaException;

/**
 * A tenant of that id exists already.
 */
public class TenantAlreadyExistsException extends GrandaException {

    public TenantAlreadyExistsException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "tenant_exists";
    }
}
