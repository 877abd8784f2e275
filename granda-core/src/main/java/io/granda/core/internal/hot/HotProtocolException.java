package io.granda.core.internal.hot;

/**
 * What the instance sent is not a valid HTTP/1.1 response: a bad status line, a malformed header, a bad chunk, a
 * bad or conflicting {@code Content-Length}, a response head over 64 KiB, or bytes nobody asked for. The message
 * says which, for the call's record.
 */
public final class HotProtocolException extends HotExchangeException {

    HotProtocolException(String message) {
        super(message);
    }
}
