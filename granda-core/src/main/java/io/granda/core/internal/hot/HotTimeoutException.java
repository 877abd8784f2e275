package io.granda.core.internal.hot;

/**
 * The deadline passed before a complete response arrived (or before the request could be sent, or the socket
 * connected). The instance may still be busy with the call, so it must never be given another one.
 */
public final class HotTimeoutException extends HotExchangeException {

    HotTimeoutException(String message) {
        super(message);
    }

    HotTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
