package io.granda.core;

/**
 * How a function's container serves calls.
 */
public enum ExecutionMode {
    /**
     * The original Granda contract, which any image satisfies: one container per call, the payload appended to
     * the image's ENTRYPOINT as its last argument and offered on stdin, stdout is the response, stderr the log
     * and the exit code the status.
     */
    RUN,
    /**
     * A long-lived container serves many calls over HTTP/1.1 on a unix socket (see docs/hot-functions.md).
     */
    HOT
}
