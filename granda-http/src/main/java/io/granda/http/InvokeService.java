package io.granda.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.Granda;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.access.Role;
import io.granda.core.async.GrandaEvents;
import io.granda.http.internal.ApiException;
import io.granda.http.internal.Authenticator;
import io.granda.http.internal.Bodies;
import io.granda.http.internal.Caller;
import io.granda.http.internal.Responses;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Function URLs: {@code /f/<routeId>[/<path>]}, any method, the body is the payload. Mount it at {@code /f}.
 *
 * <p>Answers: 200 with the function's output; 502 when the function fails or runs out of memory (JSON with the exit
 * code and the end of its log); 504 when it times out; 404 for an unknown URL; 413 for a payload over the limit;
 * 503 when the backend is down. Every answer of a call carries {@code X-Granda-*} headers with the invocation id,
 * outcome and timings. Thread-safe.
 *
 * <p>A public function's URL needs no key: its unguessable route is the secret, as in the original Granda. A private
 * one ({@link io.granda.core.FunctionSpec#isPrivate()}) needs an API key of its tenant or an admin key: without a
 * valid key the answer is {@code 401}, with another tenant's key {@code 404}, as for a URL that does not exist; a
 * reader's key is {@code 403 read_only_key}, and an invoker's key limited to other functions of the tenant
 * {@code 403 function_not_in_key_scope}. A
 * Granda API key never reaches a function: {@code X-Granda-Key}, and an {@code Authorization} header carrying a
 * Granda key, are taken out of the request the function sees.
 */
public final class InvokeService implements HttpService {

    /** Header with the call's invocation id. */
    public static final String INVOCATION_ID_HEADER = "X-Granda-Invocation-Id";

    /** Hop-by-hop headers (RFC 9110 7.6.1) describe the connection to Granda, not the call, so functions never see them. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate");

    /** Header that asks for an asynchronous call: {@code async} answers 202 at once, {@code sync} is the default. */
    public static final String INVOKE_MODE_HEADER = "X-Granda-Invoke";

    private final Granda granda;
    private final GrandaHttpConfig config;
    /** Null when asynchronous invocations are disabled. */
    private final GrandaEvents events;
    private final Authenticator auth;

    /**
     * @param granda the platform whose functions this serves
     * @param config HTTP settings
     */
    public InvokeService(Granda granda, GrandaHttpConfig config) {
        this(granda, null, config);
    }

    /**
     * @param granda the platform whose functions this serves
     * @param events its event engine, for calls with {@code X-Granda-Invoke: async}; {@code null} refuses them
     * @param config HTTP settings
     */
    public InvokeService(Granda granda, GrandaEvents events, GrandaHttpConfig config) {
        this.granda = Objects.requireNonNull(granda);
        this.config = Objects.requireNonNull(config);
        this.events = events;
        this.auth = Authenticator.of(granda, config);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any("/{routeId}", Responses.guarded("invoke", this::invoke))
                .any("/{routeId}/{+rest}", Responses.guarded("invoke", this::invoke));
    }

    private void invoke(ServerRequest req, ServerResponse res) {
        cors(res);
        String method = req.prologue().method().text();
        if ("OPTIONS".equals(method) && req.headers().contains(HeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
            // A browser's CORS preflight is about whether it may call, not a call: answer it without running anything.
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                    req.headers().first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse("Content-Type"));
            res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
            res.status(204).send();
            return;
        }
        String routeId = req.path().pathParameters().get("routeId");
        DeployedFunction function = granda.functionByRoute(routeId)
                .orElseThrow(() -> new FunctionNotFoundException("no function is served at /f/" + routeId));
        if (function.spec().isPrivate()) {
            Caller caller = auth.callerIfAny(req).orElseThrow(() -> Authenticator.unauthorized("function '"
                    + function.name() + "' is private: call it with an API key of its tenant, as 'Authorization: "
                    + "Bearer <key>' (or '" + Authenticator.KEY_HEADER + ": <key>')"));
            if (!caller.actsFor(function.tenant())) {
                throw new FunctionNotFoundException("no function is served at /f/" + routeId);
            }
            if (caller.role() == Role.READER) {
                // A call runs code, bills the tenant and may change things: not for a read-only key.
                throw Authenticator.readOnlyKey(caller);
            }
            if (caller.role() == Role.INVOKER && !caller.inScope(function.name())) {
                // The function is its tenant's (so it may learn that it exists), but not one the key was made for.
                throw Authenticator.functionNotInKeyScope(caller, function.name());
            }
        }
        boolean async = isAsync(req);
        byte[] body = Bodies.read(req, granda.options().maxPayloadBytes(), "payload");
        if (async) {
            // The function sees what a sync call would show it, less what was said to Granda about the event.
            Map<String, List<String>> eventHeaders = headers(req);
            eventHeaders.keySet().removeIf(n -> n.toLowerCase(Locale.ROOT).startsWith("x-granda-")
                    || n.equalsIgnoreCase(AsyncApiService.IDEMPOTENCY_KEY_HEADER));
            InvocationRequest event = new InvocationRequest(method, pathBelowRoute(req, routeId),
                    req.query().rawValue(), eventHeaders, body);
            AsyncApiService.accepted(res, events.submit(function, event,
                    AsyncApiService.header(req, AsyncApiService.IDEMPOTENCY_KEY_HEADER),
                    AsyncApiService.header(req, AsyncApiService.CALLBACK_HEADER), "url"));
            return;
        }
        InvocationRequest call = new InvocationRequest(method, pathBelowRoute(req, routeId), req.query().rawValue(),
                headers(req), body);
        InvocationResult result = granda.invoke(function, call);
        answer(res, result, function);
    }

    /** @return whether the caller asked for an asynchronous call; refuses a mode it cannot have */
    private boolean isAsync(ServerRequest req) {
        Optional<String> mode = req.headers().first(HeaderNames.create(INVOKE_MODE_HEADER));
        if (mode.isEmpty() || mode.get().trim().equalsIgnoreCase("sync")) {
            return false;
        }
        if (!mode.get().trim().equalsIgnoreCase("async")) {
            throw ApiException.badRequest("invalid_request", INVOKE_MODE_HEADER, INVOKE_MODE_HEADER
                    + " must be 'async' or 'sync', was '" + mode.get() + "'");
        }
        if (events == null) {
            throw new ApiException(400, "async_disabled", INVOKE_MODE_HEADER,
                    "asynchronous invocations are not enabled on this server");
        }
        return true;
    }

    /**
     * @return the path after {@code /f/<routeId>} as the caller sent it (still percent-encoded, so that a function
     *         sees exactly the path it was called with), {@code /} when there is none
     */
    private static String pathBelowRoute(ServerRequest req, String routeId) {
        String raw = req.prologue().uriPath().rawPath();
        int at = raw.indexOf(routeId);
        String rest = at < 0 ? "" : raw.substring(at + routeId.length());
        return rest.isEmpty() ? "/" : rest;
    }

    /** The headers the function sees: the caller's, without hop-by-hop ones and without Granda API keys. */
    private static Map<String, List<String>> headers(ServerRequest req) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Header h : req.headers()) {
            String name = h.name();
            if (HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
                continue;
            }
            // A key is the caller's credential for Granda, not for the function: an admin's key must never be
            // readable by a tenant's code. An Authorization header of the function's own scheme passes.
            List<String> values = h.allValues().stream().filter(v -> !Authenticator.carriesKey(name, v)).toList();
            if (!values.isEmpty()) {
                out.computeIfAbsent(name, k -> new ArrayList<>()).addAll(values);
            }
        }
        return out;
    }

    private static void answer(ServerResponse res, InvocationResult r, DeployedFunction f) {
        res.header(INVOCATION_ID_HEADER, r.invocationId());
        res.header("X-Granda-Outcome", r.outcome().name().toLowerCase(Locale.ROOT));
        res.header("X-Granda-Revision", Long.toString(r.revision()));
        res.header("X-Granda-Cold", Boolean.toString(r.cold()));
        res.header("X-Granda-Duration-Ms", Long.toString(r.timings().total().toMillis()));
        res.header("X-Granda-Run-Ms", Long.toString(r.timings().run().toMillis()));
        if (r.outputTruncated()) {
            res.header("X-Granda-Output-Truncated", "true");
        }
        if (r.httpStatus() > 0) {
            // A hot function answered in HTTP: its status, headers and body are the answer, as it sent them.
            r.headers().forEach((name, values) -> {
                String lower = name.toLowerCase(Locale.ROOT);
                if (!HOP_BY_HOP.contains(lower) && !lower.equals("content-length") && !lower.startsWith("granda-")
                        && !lower.startsWith("x-granda-")) {
                    res.header(name, values.toArray(String[]::new));
                }
            });
            res.status(r.httpStatus()).send(r.output());
            return;
        }
        switch (r.outcome()) {
            case SUCCESS -> {
                res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
                res.status(200).send(r.output());
            }
            case FUNCTION_ERROR -> Responses.json(res, 502, failure(r, "function_error",
                    "function '" + r.functionName() + "' failed" + (r.exitCode() >= 0 ? " with exit code " + r.exitCode() : "")));
            case OUT_OF_MEMORY -> Responses.json(res, 502, failure(r, "out_of_memory",
                    "function '" + r.functionName() + "' exceeded its memory limit of " + f.spec().memoryMb() + " MiB"));
            case TIMEOUT -> Responses.json(res, 504, failure(r, "timeout",
                    "function '" + r.functionName() + "' did not finish within its timeout of "
                            + f.spec().timeout().toMillis() / 1000.0 + " s and was stopped"));
        }
    }

    private static ObjectNode failure(InvocationResult r, String code, String message) {
        ObjectNode body = Responses.errorBody(code, message, null);
        body.put("invocationId", r.invocationId());
        body.put("outcome", r.outcome().name().toLowerCase(Locale.ROOT));
        if (r.exitCode() >= 0) {
            body.put("exitCode", r.exitCode());
        } else {
            body.putNull("exitCode");
        }
        body.put("logTail", r.logTail());
        body.put("output", new String(r.output(), 0, Math.min(r.output().length, 4096), StandardCharsets.UTF_8));
        body.put("durationMs", r.timings().total().toMillis());
        return body;
    }

    private void cors(ServerResponse res) {
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, config.corsAllowOrigin());
        res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, "X-Granda-Invocation-Id, X-Granda-Outcome, "
                + "X-Granda-Revision, X-Granda-Cold, X-Granda-Duration-Ms, X-Granda-Run-Ms");
    }

}
