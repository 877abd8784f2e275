package io.granda.core.access;

import io.granda.core.GrandaException;

/**
 * The change would leave no valid admin key, so nobody could manage tenants any more; nothing was changed.
 */
public class LastAdminKeyException extends GrandaException {

    public LastAdminKeyException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "last_admin_key";
    }
}
