package io.granda.core.internal.hot;

/**
 * The response body is larger than the limit the caller passed (the platform's output limit). Detected as soon as
 * the {@code Content-Length} or a chunk size says so, or when the bytes read go past it; the rest is not read.
 */
public final class HotResponseTooLargeException extends HotExchangeException {

    private final long limit;

    HotResponseTooLargeException(long limit) {
        super("the response body is larger than the limit of " + limit + " bytes");
        this.limit = limit;
    }

    /** @return the limit that was exceeded, in bytes */
    public long limit() {
        return limit;
    }
}
