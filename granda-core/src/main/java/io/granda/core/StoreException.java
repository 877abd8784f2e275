package io.granda.core;

/**
 * The store could not read or write.
 */
public class StoreException extends GrandaException {

    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "store_unavailable";
    }
}
