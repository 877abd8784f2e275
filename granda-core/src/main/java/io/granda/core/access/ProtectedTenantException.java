package io.granda.core.access;

import io.granda.core.GrandaException;

/**
 * The tenant cannot be deleted: it is {@link Tenant#DEFAULT}, which always exists (functions deployed without a
 * tenant and the configured admin key belong to it). Nothing was changed.
 */
public class ProtectedTenantException extends GrandaException {

    public ProtectedTenantException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "tenant_protected";
    }
}
