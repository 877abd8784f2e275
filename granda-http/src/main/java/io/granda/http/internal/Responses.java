package io.granda.http.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.BackendUnavailableException;
import io.granda.core.FunctionAlreadyExistsException;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionNotReadyException;
import io.granda.core.GrandaException;
import io.granda.core.ImageUnavailableException;
import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.NoCapacityException;
import io.granda.core.PayloadTooLargeException;
import io.granda.core.RevisionConflictException;
import io.granda.core.ShuttingDownException;
import io.granda.core.RuntimeUnavailableException;
import io.granda.core.StoreException;
import io.granda.core.access.ApiKeyNotFoundException;
import io.granda.core.access.LastAdminKeyException;
import io.granda.core.access.TenantAlreadyExistsException;
import io.granda.core.access.TenantNotFoundException;
import io.granda.core.build.BuildFailedException;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes JSON answers and turns every failure into a JSON error with the right status, so that no input ever gets
 * a bare 500 or an HTML page. Not API.
 */
public final class Responses {

    private static final Logger LOG = LoggerFactory.getLogger(Responses.class);
    private static final String JSON = "application/json";

    private Responses() {
    }

    /** Sends a JSON body with a status; a 401 says how to authenticate ({@code WWW-Authenticate: Bearer}). */
    public static void json(ServerResponse res, int status, JsonNode body) {
        res.status(Status.create(status));
        if (status == 401) {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"granda\"");
        }
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        res.send(Json.bytes(body));
    }

    /** @return the error body every failure answers with: {@code {"error": code, "message": ..., "field"?: ...}} */
    public static ObjectNode errorBody(String code, String message, String field) {
        ObjectNode body = Json.object();
        body.put("error", code);
        body.put("message", message);
        if (field != null) {
            body.put("field", field);
        }
        return body;
    }

    /**
     * Sends the JSON error for a failure.
     *
     * @param context what was being done, for the 5xx log line
     */
    public static void error(ServerResponse res, Throwable failure, String context) {
        if (res.isSent()) {
            return;
        }
        if (failure instanceof ApiException e) {
            if (e.retryAfterSeconds() > 0) {
                res.header(HeaderNames.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
            }
            json(res, e.status(), errorBody(e.code(), e.getMessage(), e.field()));
            return;
        }
        if (failure instanceof GrandaException e) {
            int status = statusOf(e);
            String field = e instanceof InvalidFunctionSpecException invalid ? invalid.field() : null;
            if (status >= 500) {
                LOG.atWarn().addKeyValue("context", context).addKeyValue("error", e.code()).log(e.getMessage());
            }
            ObjectNode body = errorBody(e.code(), e.getMessage(), field);
            if (e instanceof FunctionNotReadyException notReady) {
                body.put("logTail", notReady.logTail());
            }
            if (e instanceof BuildFailedException failed) {
                body.put("log", failed.log());
            }
            if (e instanceof io.granda.core.access.TenantHasFunctionsException owning) {
                owning.functions().forEach(body.putArray("functions")::add);
            }
            json(res, status, body);
            return;
        }
        if (failure instanceof HttpException e && e.status().code() < 500) {
            // Helidon's own refusal of the request, raised lazily while a handler reads it (a header it cannot parse).
            json(res, e.status().code(), errorBody(e.status().code() == 400 ? "invalid_request" : "http_error",
                    e.getMessage(), null));
            return;
        }
        if (failure instanceof IllegalArgumentException e) {
            // Raised by stores and parsers for malformed client input such as a cursor they did not make.
            json(res, 400, errorBody("invalid_request", e.getMessage(), null));
            return;
        }
        LOG.atError().setCause(failure).addKeyValue("context", context).log("unexpected failure");
        json(res, 500, errorBody("internal_error",
                "Granda failed unexpectedly; the server log has the details", null));
    }

    /** @return the HTTP status a platform failure answers with */
    public static int statusOf(GrandaException e) {
        if (e.code().equals("payload_too_large")) {
            return 413; // uploads too large, whatever type says so
        }
        return switch (e) {
            case InvalidFunctionSpecException ignored -> 400;
            case FunctionNotFoundException ignored -> 404;
            case io.granda.core.async.EventNotFoundException ignored -> 404;
            case TenantNotFoundException ignored -> 404;
            case ApiKeyNotFoundException ignored -> 404;
            case TenantAlreadyExistsException ignored -> 409;
            case LastAdminKeyException ignored -> 409;
            case io.granda.core.access.TenantHasFunctionsException ignored -> 409;
            case io.granda.core.access.ProtectedTenantException ignored -> 409;
            case FunctionAlreadyExistsException ignored -> 409;
            case RevisionConflictException ignored -> 409;
            case PayloadTooLargeException ignored -> 413;
            case ImageUnavailableException ignored -> 422;
            case NoCapacityException ignored -> 429;
            case FunctionNotReadyException ignored -> 502;
            case BuildFailedException ignored -> 422;
            case RuntimeUnavailableException ignored -> 503;
            case BackendUnavailableException ignored -> 503;
            case ShuttingDownException ignored -> 503;
            case StoreException ignored -> 503;
            default -> 500;
        };
    }

    /**
     * Wraps a handler so that whatever it throws becomes a JSON error.
     *
     * @param context what the handler does, for logs
     */
    public static Handler guarded(String context, Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (Exception e) {
                error(res, e, context);
            }
        };
    }
}
