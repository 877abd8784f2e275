package io.granda.core.access;

import io.granda.core.GrandaException;

/**
 * No API key of that id exists (or none the caller may see).
 */
public class ApiKeyNotFoundException extends GrandaException {

    public ApiKeyNotFoundException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "key_not_found";
    }
}
