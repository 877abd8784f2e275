package io.granda.core.internal.hot;

/**
 * The socket could not be connected, or the instance closed or reset the connection before a complete response:
 * to the caller, the instance crashed.
 */
public final class HotConnectionException extends HotExchangeException {

    private final boolean beforeResponse;

    HotConnectionException(String message, Throwable cause, boolean beforeResponse) {
        super(message, cause);
        this.beforeResponse = beforeResponse;
    }

    /**
     * Whether not one byte of a response had arrived. On a connection that already served an exchange (see
     * {@link HotConnection#completedExchanges()}) this is also what an instance closing an idle keep-alive
     * connection looks like, so a caller may choose to retry on a fresh connection; the instance may also have read
     * the request and died, so only the caller knows whether a retry is safe.
     *
     * @return true when the failure came before any response byte (always true for a failed connect)
     */
    public boolean beforeResponse() {
        return beforeResponse;
    }
}
