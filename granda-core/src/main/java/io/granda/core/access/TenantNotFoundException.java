package io.granda.core.access;

import io.granda.core.GrandaException;

/**
 * No tenant of that id exists.
 */
public class TenantNotFoundException extends GrandaException {

    public TenantNotFoundException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "tenant_not_found";
    }
}
