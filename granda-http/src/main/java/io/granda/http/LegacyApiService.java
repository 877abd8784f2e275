package io.granda.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.DeployedFunction;
import io.granda.core.FunctionSpec;
import io.granda.core.GrandaException;
import io.granda.core.Granda;
import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.UsageSummary;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.SourceFile;
import io.granda.http.internal.ApiException;
import io.granda.http.internal.Authenticator;
import io.granda.http.internal.Caller;
import io.granda.http.internal.Bodies;
import io.granda.http.internal.Forms;
import io.granda.http.internal.Json;
import io.granda.http.internal.Responses;
import io.granda.http.internal.Routes;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The original Granda API, unchanged, so that the original web page (which posts forms to it from another origin)
 * keeps working: {@code POST /createFunc}, {@code GET /funcInvocationCount}, {@code GET /invocationDetails}. Mount it
 * at {@code /}. Thread-safe.
 *
 * <p>Where the original answered bad input with a panic or a silent {@code status:false}, this answers a 4xx with the
 * original's JSON shape plus {@code error} and {@code message} saying what is wrong.
 *
 * <p>Like every management call, these need an API key ({@code 401} in the original's shape without one; a tenant key
 * acts on its own tenant's functions only). The original page sent none, so it works only against a server whose
 * {@link GrandaHttpConfig#requireApiKey()} is off. CORS preflights need no key: browsers send them without one.
 */
public final class LegacyApiService implements HttpService {

    /** The original's default timeout when the form leaves {@code time} empty. */
    private static final int DEFAULT_TIMEOUT_SECONDS = 10;
    /** The original's default window of {@code funcInvocationCount}, in seconds. */
    private static final int DEFAULT_COUNT_WINDOW_SECONDS = 10;
    /** The original listed every call; a bound keeps one request from reading a whole billing history. */
    private static final int MAX_DETAILS = 1000;
    /** The original stored SQLite's {@code datetime('now')}: UTC, second precision. */
    private static final DateTimeFormatter SQLITE_DATETIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private final Granda granda;
    private final GrandaHttpConfig config;
    private final Authenticator auth;

    /**
     * @param granda the platform
     * @param config HTTP settings (CORS origin, public URL)
     */
    public LegacyApiService(Granda granda, GrandaHttpConfig config) {
        this.granda = Objects.requireNonNull(granda);
        this.config = Objects.requireNonNull(config);
        this.auth = Authenticator.of(granda, config);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/createFunc", legacy("createFunc", this::createFunc, "path"))
                .post("/createCodeFunc", legacy("createCodeFunc", this::createCodeFunc, "path"))
                .options("/createCodeFunc", this::preflight)
                .get("/funcInvocationCount", legacy("funcInvocationCount", this::invocationCount, "count"))
                .get("/invocationDetails", legacy("invocationDetails", this::invocationDetails, "data"))
                .options("/createFunc", this::preflight)
                .options("/funcInvocationCount", this::preflight)
                .options("/invocationDetails", this::preflight);
    }

    private void createFunc(Caller caller, ServerRequest req, ServerResponse res) {
        Bodies.requireContentType(req, "application/x-www-form-urlencoded");
        Map<String, String> form = Forms.parse(Bodies.read(req, config.maxJsonBytes(), "form body"));
        String name = form.getOrDefault("name", "").trim();
        String image = form.getOrDefault("image", "").trim();
        int timeout = timeoutOf(form);
        if (image.isEmpty()) {
            throw new InvalidFunctionSpecException("image", "image is required");
        }
        FunctionSpec spec = FunctionSpec.builder(name)
                .description(form.getOrDefault("description", ""))
                .image(image)
                .timeout(Duration.ofSeconds(timeout))
                .build();
        DeployedFunction created = granda.deploy(caller.tenant(), spec);
        ObjectNode body = Json.object();
        body.put("status", true);
        body.put("path", Routes.baseUrl(req, config) + Routes.functionPath(created));
        body.put("message", "Function '" + created.name() + "' is ready at this URL");
        Responses.json(res, 200, body);
    }

    /**
     * The original "Code" flow: form fields name, description, runtime (the original page sent Go1.7, Go1.6 or Go1.5;
     * its source also named Python3 and Python2.7; Granda's own runtime names work too), time and code. Builds the
     * function and answers like {@code /createFunc}.
     */
    private void createCodeFunc(Caller caller, ServerRequest req, ServerResponse res) {
        Bodies.requireContentType(req, "application/x-www-form-urlencoded");
        Map<String, String> form = Forms.parse(Bodies.read(req, config.maxJsonBytes(), "form body"));
        String code = form.getOrDefault("code", "");
        if (code.isBlank()) {
            throw ApiException.badRequest("invalid_request", "code", "code is required");
        }
        String runtimeName = form.getOrDefault("runtime", "").trim();
        if (runtimeName.isEmpty()) {
            throw ApiException.badRequest("invalid_request", "runtime", "runtime is required");
        }
        LanguageRuntime runtime = granda.runtimes().require(runtimeName);
        FunctionSpec spec = FunctionSpec.builder(form.getOrDefault("name", "").trim())
                .description(form.getOrDefault("description", ""))
                .timeout(Duration.ofSeconds(timeoutOf(form)))
                .build();
        FunctionSource source = new FunctionSource(runtime.name(),
                List.of(SourceFile.text(runtime.handlerFile(), code)));
        DeployedFunction created = granda.deploy(caller.tenant(), spec, source, line -> { });
        ObjectNode body = Json.object();
        body.put("status", true);
        body.put("path", Routes.baseUrl(req, config) + Routes.functionPath(created));
        body.put("message", "Built function '" + created.name() + "' (" + runtime.name() + "); it is ready at this URL");
        Responses.json(res, 200, body);
    }

    private static int timeoutOf(Map<String, String> form) {
        String time = form.getOrDefault("time", "").trim();
        if (time.isEmpty()) {
            return DEFAULT_TIMEOUT_SECONDS;
        }
        int timeout;
        try {
            timeout = Integer.parseInt(time);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid_request", "time",
                    "time must be a positive whole number of seconds, was '" + time + "'");
        }
        if (timeout <= 0) {
            throw ApiException.badRequest("invalid_request", "time",
                    "time must be a positive whole number of seconds, was " + timeout);
        }
        return timeout;
    }

    private void invocationCount(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.query().first("funcname").asOptional().orElse("").trim();
        if (name.isEmpty()) {
            throw ApiException.badRequest("invalid_request", "funcname", "funcname is required");
        }
        int window = DEFAULT_COUNT_WINDOW_SECONDS;
        Optional<String> duration = req.query().first("duration").asOptional().filter(s -> !s.isBlank());
        if (duration.isPresent()) {
            try {
                window = Integer.parseInt(duration.get().trim());
            } catch (NumberFormatException e) {
                window = -1;
            }
            if (window <= 0) {
                throw ApiException.badRequest("invalid_request", "duration",
                        "duration must be a positive whole number of seconds, was '" + duration.get() + "'");
            }
        }
        Instant now = granda.clock().instant();
        UsageSummary usage = granda.usage(caller.scope(), name, now.minusSeconds(window), now.plusMillis(1));
        ObjectNode body = Json.object();
        body.put("status", true);
        body.put("count", usage.calls());
        Responses.json(res, 200, body);
    }

    private void invocationDetails(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.query().first("function").asOptional().orElse("").trim();
        if (name.isEmpty()) {
            throw ApiException.badRequest("invalid_request", "function", "function is required");
        }
        ObjectNode body = Json.object();
        ArrayNode data = body.putArray("data");
        String cursor = null;
        int listed = 0;
        do {
            Page<InvocationRecord> page = granda.invocations(caller.scope(), name, Math.min(500, MAX_DETAILS - listed),
                    cursor);
            for (InvocationRecord r : page.items()) {
                ArrayNode row = data.addArray();
                row.add(r.functionName());
                row.add(SQLITE_DATETIME.format(r.start()));
                row.add(seconds(r));
                row.add(r.outcome() == Outcome.SUCCESS ? "Success" : "Failure");
                listed++;
            }
            cursor = page.nextCursor();
        } while (cursor != null && listed < MAX_DETAILS);
        Responses.json(res, 200, body);
    }

    private static String seconds(InvocationRecord r) {
        long micros = Duration.between(r.start(), r.end()).toNanos() / 1000;
        return BigDecimal.valueOf(micros, 6).stripTrailingZeros().toPlainString();
    }

    private void preflight(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, config.corsAllowOrigin());
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                req.headers().first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse("Content-Type"));
        res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
        res.status(204).send();
    }

    /**
     * Adds CORS and keeps the original's answer shape on errors: {@code status:false} plus an empty value for the
     * endpoint's payload field, next to our {@code error} and {@code message}.
     */
    private Handler legacy(String context, Authenticator.CallerHandler handler, String payloadField) {
        return (req, res) -> {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, config.corsAllowOrigin());
            try {
                handler.handle(auth.caller(req), req, res);
            } catch (ApiException e) {
                if (e.retryAfterSeconds() > 0) {
                    res.header(HeaderNames.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
                }
                fail(res, e.status(), e.code(), e.getMessage(), e.field(), payloadField, null);
            } catch (GrandaException e) {
                String field = e instanceof InvalidFunctionSpecException invalid ? legacyField(invalid.field()) : null;
                fail(res, Responses.statusOf(e), e.code(), e.getMessage(), field, payloadField,
                        e instanceof BuildFailedException failed ? failed.log() : null);
            } catch (Exception e) {
                Responses.error(res, e, context);
            }
        };
    }

    private static String legacyField(String field) {
        return "timeoutSeconds".equals(field) ? "time" : field;
    }

    private static void fail(ServerResponse res, int status, String code, String message, String field,
                             String payloadField, String log) {
        ObjectNode body = Responses.errorBody(code, message, field);
        if (log != null) {
            body.put("log", log);
        }
        switch (payloadField) {
            case "path" -> {
                body.put("status", false);
                body.put("path", "");
            }
            case "count" -> {
                body.put("status", false);
                body.put("count", 0);
            }
            default -> body.putArray("data");
        }
        Responses.json(res, status, body);
    }
}
