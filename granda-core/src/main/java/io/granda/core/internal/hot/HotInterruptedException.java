package io.granda.core.internal.hot;

/**
 * The calling thread was interrupted during the exchange, which closed the channel (as NIO does). This says nothing
 * about the instance, which is why it is not a {@link HotConnectionException}. The thread's interrupt status is
 * left set.
 */
public final class HotInterruptedException extends HotExchangeException {

    HotInterruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
