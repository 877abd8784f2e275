package io.granda.core.build;

import io.granda.core.GrandaException;

/**
 * A function's uploaded source exceeds a {@link SourceLimits} bound: the archive is too large, holds too many files,
 * or unpacks to too many bytes. Nothing was built, registered or changed. The HTTP API answers 413 (code
 * {@code payload_too_large}, as for an oversized call payload) with {@link #getMessage()}, which names the limit.
 */
public class SourceTooLargeException extends GrandaException {

    /** @param message which limit was exceeded, and its value */
    public SourceTooLargeException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "payload_too_large";
    }
}
