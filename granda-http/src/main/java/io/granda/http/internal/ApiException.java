package io.granda.http.internal;

/**
 * A request the HTTP layer refuses before reaching the platform (bad JSON, wrong content type, bad query
 * parameter), with the status and JSON error it answers. Not API.
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;

    public ApiException(int status, String code, String field, String message) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    public static ApiException badRequest(String code, String field, String message) {
        return new ApiException(400, code, field, message);
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
