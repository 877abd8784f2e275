package io.granda.core.internal.hot;

import java.io.IOException;

/**
 * An exchange with a hot function instance (or opening a connection to one) failed. Whatever the subtype, the
 * connection is not reusable afterwards and the caller must close it. The subtype says why, which decides what the
 * caller answers and whether it keeps the instance (see {@code docs/hot-functions.md}, "When things go wrong"):
 *
 * <ul>
 *   <li>{@link HotTimeoutException}: the deadline passed before a complete response;</li>
 *   <li>{@link HotConnectionException}: the socket could not be connected, or the instance closed or reset the
 *       connection before a complete response ("the instance crashed");</li>
 *   <li>{@link HotProtocolException}: what the instance sent is not HTTP/1.1 ("invalid response");</li>
 *   <li>{@link HotResponseTooLargeException}: the body is larger than the caller allowed;</li>
 *   <li>{@link HotInterruptedException}: the calling thread was interrupted, which is not the instance's fault.</li>
 * </ul>
 *
 * <p>The hierarchy is sealed so that a {@code switch} over it is exhaustive.
 */
public abstract sealed class HotExchangeException extends IOException
        permits HotTimeoutException, HotConnectionException, HotProtocolException, HotResponseTooLargeException,
        HotInterruptedException {

    HotExchangeException(String message) {
        super(message);
    }

    HotExchangeException(String message, Throwable cause) {
        super(message, cause);
    }
}
