package io.granda.http.internal;

/**
 * A request the HTTP layer refuses before reaching the platform (bad JSON, wrong content type, bad query
 * parameter), with the status and JSON error it answers. Not API.
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;
    private final long retryAfterSeconds;

    public ApiException(int status, String code, String field, String message) {
        this(status, code, field, message, 0);
    }

    public static ApiException badRequest(String code, String field, String message) {
        return new ApiException(400, code, field, message);
    }

    /**
     * A refusal the client may retry later.
     *
     * @param retryAfterSeconds how long the client should wait before trying again, sent as {@code Retry-After}
     */
    public ApiException(int status, String code, String field, String message, long retryAfterSeconds) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** @return the {@code Retry-After} to send, in seconds; 0 for none */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** @return the request field the error concerns, or {@code null} */
    public String field() {
        return field;
    }
}
