package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.BuildInfo;
import io.granda.core.CallLog;
import io.granda.core.InvocationResult;
import io.granda.core.Granda;
import io.granda.core.Granularity;
import io.granda.core.InstanceInfo;
import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.Prices;
import io.granda.core.UsageSummary;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.SourceArchives;
import io.granda.core.build.SourceFile;
import io.granda.http.internal.ApiException;
import io.granda.http.internal.Authenticator;
import io.granda.http.internal.Caller;
import io.granda.http.internal.Bodies;
import io.granda.http.internal.BuildJson;
import io.granda.http.internal.BuildStream;
import io.granda.http.internal.FunctionJson;
import io.granda.http.internal.InvocationJson;
import io.granda.http.internal.Json;
import io.granda.http.internal.Multipart;
import io.granda.http.internal.Responses;
import io.granda.http.internal.Routes;
import io.granda.http.internal.UsageJson;
import io.granda.http.internal.UsageQuery;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The management API: create, read, update and delete functions, list their calls, read their usage. Mount it at
 * {@code /functions}. Every answer is JSON; see docs/http-api.md. Thread-safe.
 *
 * <p>Every route needs an API key (unless {@link GrandaHttpConfig#requireApiKey()} is off). A tenant key sees and
 * changes only its tenant's functions; another tenant's function answers {@code 404} exactly as a missing one. An
 * admin key sees every tenant's. A function created with a key belongs to the key's tenant.
 */
public final class FunctionsApiService implements HttpService {

    private static final int DEFAULT_PAGE = 50;
    private static final int MAX_PAGE = 1000;

    private final Granda granda;
    private final GrandaHttpConfig config;
    private final Authenticator auth;

    /**
     * @param granda the platform to manage
     * @param config HTTP settings
     */
    public FunctionsApiService(Granda granda, GrandaHttpConfig config) {
        this.granda = Objects.requireNonNull(granda);
        this.config = Objects.requireNonNull(config);
        this.auth = Authenticator.of(granda, config);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/", auth.authenticated("create function", this::create))
                .get("/", auth.authenticated("list functions", this::list))
                .get("/{name}", auth.authenticated("get function", this::get))
                .put("/{name}", auth.authenticated("update function", this::update))
                .delete("/{name}", auth.authenticated("delete function", this::delete))
                .get("/{name}/invocations", auth.authenticated("list invocations", this::invocations))
                .get("/{name}/usage", auth.authenticated("usage", this::usage))
                .get("/{name}/instances", auth.authenticated("list instances", this::instances))
                .get("/{name}/source", auth.authenticated("get source", this::source))
                .get("/{name}/build", auth.authenticated("get build", this::latestBuild))
                .get("/{name}/logs", auth.authenticated("recent logs", this::recentLogs))
                .any("/", methodNotAllowed("GET, POST"))
                .any("/{name}", methodNotAllowed("GET, PUT, DELETE"))
                .any("/{name}/invocations", methodNotAllowed("GET"))
                .any("/{name}/usage", methodNotAllowed("GET"))
                .any("/{name}/instances", methodNotAllowed("GET"))
                .any("/{name}/source", methodNotAllowed("GET"))
                .any("/{name}/build", methodNotAllowed("GET"))
                .any("/{name}/logs", methodNotAllowed("GET"));
    }

    private void create(Caller caller, ServerRequest req, ServerResponse res) {
        FunctionJson.Parsed parsed = readRequest(caller, req, null);
        if (parsed.source() != null) {
            build(caller, req, res, parsed, log -> granda.deploy(caller.tenant(), parsed.spec(), parsed.source(), log),
                    201);
            return;
        }
        DeployedFunction created = granda.deploy(caller.tenant(), parsed.spec());
        res.header(HeaderNames.LOCATION, "/functions/" + created.name());
        res.header(HeaderNames.ETAG, etag(created));
        Responses.json(res, 201, FunctionJson.render(created, Routes.baseUrl(req, config)));
    }

    /**
     * Builds a function from source and answers: the function with its build's log, or 422 with the compiler's
     * message; with {@code ?stream=true} (or {@code Accept: application/x-ndjson}) the build's output is streamed
     * while it runs.
     */
    private void build(Caller caller, ServerRequest req, ServerResponse res, FunctionJson.Parsed parsed,
                       java.util.function.Function<java.util.function.Consumer<String>, DeployedFunction> action,
                       int successStatus) {
        boolean stream = req.query().first("stream").asOptional().map("true"::equalsIgnoreCase).orElse(false)
                || req.headers().first(HeaderNames.ACCEPT).map(a -> a.contains("application/x-ndjson")).orElse(false);
        String base = Routes.baseUrl(req, config);
        if (stream) {
            BuildStream out = new BuildStream(res);
            DeployedFunction f;
            try {
                f = action.apply(out);
            } catch (RuntimeException e) {
                if (!out.started()) {
                    throw e; // refused before the build began: an ordinary error answer
                }
                out.fail(e);
                return;
            }
            ObjectNode body = FunctionJson.render(f, base);
            granda.latestBuild(caller.scope(), f.name()).ifPresent(b -> body.set("build", BuildJson.render(b, false)));
            out.finish(successStatus, "function", body);
            return;
        }
        StringBuilder log = new StringBuilder();
        DeployedFunction f;
        try {
            f = action.apply(line -> log.append(line).append('\n'));
        } catch (BuildFailedException e) {
            ObjectNode body = Responses.errorBody(e.code(), e.getMessage(), "code");
            body.put("log", e.log());
            Responses.json(res, 422, body);
            return;
        }
        ObjectNode body = FunctionJson.render(f, base);
        granda.latestBuild(caller.scope(), f.name()).ifPresent(b -> body.set("build", BuildJson.render(b, true)));
        if (successStatus == 201) {
            res.header(HeaderNames.LOCATION, "/functions/" + f.name());
        }
        res.header(HeaderNames.ETAG, etag(f));
        Responses.json(res, successStatus, body);
    }

    /** Every function of the caller's tenant; for an admin, of every tenant or of {@code ?tenant=}. */
    private void list(Caller caller, ServerRequest req, ServerResponse res) {
        String base = Routes.baseUrl(req, config);
        ObjectNode body = Json.object();
        ArrayNode items = body.putArray("items");
        for (DeployedFunction f : granda.functions(caller.scope(UsageQuery.tenant(req)))) {
            items.add(FunctionJson.render(f, base));
        }
        Responses.json(res, 200, body);
    }

    private void get(Caller caller, ServerRequest req, ServerResponse res) {
        DeployedFunction f = find(caller, req);
        res.header(HeaderNames.ETAG, etag(f));
        Responses.json(res, 200, FunctionJson.render(f, Routes.baseUrl(req, config)));
    }

    private void update(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        // A bad request is refused the same way whether the function is missing, another tenant's or the caller's;
        // the update itself then finds another tenant's function missing, before anything is built or pulled.
        FunctionJson.Parsed parsed = readRequest(caller, req, name);
        Optional<String> ifMatch = req.headers().first(HeaderNames.IF_MATCH);
        long expected = ifMatch.isPresent() ? parseRevision(ifMatch.get()) : -1;
        String scope = caller.scope();
        if (parsed.source() != null) {
            build(caller, req, res, parsed, log -> granda.update(scope, parsed.spec(), expected, parsed.source(), log),
                    200);
            return;
        }
        DeployedFunction updated = granda.update(scope, parsed.spec(), expected);
        res.header(HeaderNames.ETAG, etag(updated));
        Responses.json(res, 200, FunctionJson.render(updated, Routes.baseUrl(req, config)));
    }

    private void source(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        FunctionSource source = granda.source(caller.scope(), name).orElseThrow(() -> new ApiException(404, "no_source", null,
                "function '" + name + "' was given as an image, not built from source"));
        Responses.json(res, 200, BuildJson.render(source));
    }

    private void latestBuild(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        find(caller, req);
        BuildInfo b = granda.latestBuild(caller.scope(), name).orElseThrow(() -> new ApiException(404, "no_build", null,
                "no build of function '" + name + "' is remembered (builds are kept in memory until a restart)"));
        Responses.json(res, 200, BuildJson.render(b, true));
    }

    private void delete(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        if (!granda.delete(caller.scope(), name)) {
            throw new FunctionNotFoundException("no function named '" + name + "'");
        }
        res.status(204).send();
    }

    private void invocations(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        find(caller, req);
        int limit = intParam(req, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
        String cursor = req.query().first("cursor").asOptional().orElse(null);
        Page<InvocationRecord> page = granda.invocations(caller.scope(), name, limit, cursor);
        ObjectNode body = Json.object();
        ArrayNode items = body.putArray("items");
        page.items().forEach(r -> items.add(InvocationJson.render(r)));
        if (page.nextCursor() != null) {
            body.put("nextCursor", page.nextCursor());
        } else {
            body.putNull("nextCursor");
        }
        Responses.json(res, 200, body);
    }

    /** The function's last calls with the end of their logs, newest first, from memory. */
    private void recentLogs(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        List<CallLog> calls = granda.recentLogs(caller.scope(), name);
        ObjectNode body = Json.object();
        body.put("function", name);
        body.put("capacity", granda.recentLogsPerFunction());
        ArrayNode items = body.putArray("items");
        for (CallLog c : calls) {
            ObjectNode n = items.addObject();
            n.put("invocationId", c.invocationId());
            n.put("revision", c.revision());
            // Microseconds, as in the invocations API, so that the same call shows the same instants in both.
            n.put("start", c.start().truncatedTo(java.time.temporal.ChronoUnit.MICROS).toString());
            n.put("end", c.end().truncatedTo(java.time.temporal.ChronoUnit.MICROS).toString());
            n.put("durationMs", c.duration().toMillis());
            n.put("outcome", c.outcome().name().toLowerCase(java.util.Locale.ROOT));
            n.put("status", c.status());
            if (c.exitCode() == InvocationResult.NO_EXIT_CODE) {
                n.putNull("exitCode");
            } else {
                n.put("exitCode", c.exitCode());
            }
            n.put("cold", c.cold());
            n.put("logTail", c.logTail());
        }
        Responses.json(res, 200, body);
    }

    private void instances(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        ObjectNode body = Json.object();
        ArrayNode items = body.putArray("items");
        for (InstanceInfo i : granda.instances(caller.scope(), name)) {
            ObjectNode n = items.addObject();
            n.put("id", i.id());
            n.put("revision", i.revision());
            n.put("state", i.state().toLowerCase(java.util.Locale.ROOT));
            n.put("callsInFlight", i.callsInFlight());
            n.put("callsServed", i.callsServed());
        }
        Responses.json(res, 200, body);
    }

    /**
     * Exact totals of a function's calls in {@code [since, until)}, from its raw records, with their cost; with a
     * granularity, also a series from the per-minute aggregates over the window widened to whole buckets.
     */
    private void usage(Caller caller, ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        find(caller, req);
        Optional<Granularity> granularity = UsageQuery.granularity(req);
        UsageQuery.Window window = UsageQuery.window(req, granda.clock().instant(),
                granularity.map(UsageQuery::defaultSeriesSince).orElse(until -> Instant.EPOCH));
        granularity.ifPresent(g -> UsageQuery.checkBuckets(window, g));
        UsageSummary usage = granda.usage(caller.scope(), name, window.since(), window.until());
        Prices prices = granda.prices();
        ObjectNode body = Json.object();
        body.put("function", name);
        body.put("since", window.since().toString());
        body.put("until", window.until().toString());
        UsageJson.putTotals(body, usage, prices);
        body.set("prices", UsageJson.prices(prices));
        if (granularity.isPresent()) {
            Granularity g = granularity.get();
            UsageQuery.Window widened = window.widenedTo(g);
            UsageJson.putSeries(body, granda.usageSeries(caller.scope(), name, widened.since(), widened.until(), g), g,
                    widened, prices);
        }
        Responses.json(res, 200, body);
    }

    /** Reads a create or update request: JSON, or multipart with a JSON {@code spec} part and an {@code archive}. */
    private FunctionJson.Parsed readRequest(Caller caller, ServerRequest req, String nameFromPath) {
        String type = Bodies.mediaType(req);
        if (type.equalsIgnoreCase("multipart/form-data")) {
            int limit = granda.options().build().sourceLimits().maxUploadBytes() + config.maxJsonBytes();
            byte[] body = Bodies.read(req, limit, "upload");
            Map<String, Multipart.Part> parts = Multipart.parse(
                    req.headers().first(HeaderNames.CONTENT_TYPE).orElse(""), body);
            Multipart.Part spec = parts.get("spec");
            if (spec == null) {
                throw ApiException.badRequest("invalid_request", "spec",
                        "a multipart request needs a 'spec' part with the function's JSON");
            }
            Multipart.Part archive = parts.get("archive");
            List<SourceFile> files = archive == null ? null
                    : SourceArchives.read(archive.content(), granda.options().build().sourceLimits());
            return FunctionJson.parse(keepPrivacy(caller, Json.parse(spec.content()), nameFromPath), nameFromPath, files,
                    granda.runtimes());
        }
        Bodies.requireContentType(req, "application/json");
        byte[] body = Bodies.read(req, config.maxJsonBytes(), "request body");
        return FunctionJson.parse(keepSourceOnSettingsUpdate(caller, keepPrivacy(caller, Json.parse(body), nameFromPath),
                nameFromPath), nameFromPath, null, granda.runtimes());
    }

    /**
     * An update that does not say whether the function is private keeps what it is: a function is never made public
     * by leaving a field out.
     */
    private JsonNode keepPrivacy(Caller caller, JsonNode body, String nameFromPath) {
        if (nameFromPath == null || !(body instanceof ObjectNode object) || object.has("private")) {
            return body;
        }
        granda.function(caller.scope(), nameFromPath).ifPresent(f -> object.put("private", f.spec().isPrivate()));
        return body;
    }

    /**
     * An update of a source function that gives neither an image nor a runtime changes only settings: it keeps the
     * current image, and so the current source (the facade keeps the source when the image is the current one).
     */
    private JsonNode keepSourceOnSettingsUpdate(Caller caller, JsonNode body, String nameFromPath) {
        if (nameFromPath == null || !(body instanceof ObjectNode object) || object.hasNonNull("image")
                || object.hasNonNull("runtime") || object.hasNonNull("code") || object.hasNonNull("files")
                || object.hasNonNull("dependencies")) {
            return body;
        }
        granda.function(caller.scope(), nameFromPath).filter(f -> f.spec().fromSource()).ifPresent(f -> {
            object.put("image", f.spec().image());
            if (!object.hasNonNull("mode")) {
                object.put("mode", "hot"); // a source function only runs hot
            }
        });
        return body;
    }

    /** @return the caller's function of the path's name; another tenant's is not found, as a missing one */
    private DeployedFunction find(Caller caller, ServerRequest req) {
        String name = req.path().pathParameters().get("name");
        return granda.function(caller.scope(), name)
                .orElseThrow(() -> new FunctionNotFoundException("no function named '" + name + "'"));
    }

    private static String etag(DeployedFunction f) {
        return "\"" + f.revision() + "\"";
    }

    private static long parseRevision(String ifMatch) {
        String v = ifMatch.trim();
        if (v.startsWith("W/")) {
            v = v.substring(2);
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        try {
            long revision = Long.parseLong(v);
            if (revision < 1) {
                throw new NumberFormatException();
            }
            return revision;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid_request", "If-Match",
                    "If-Match must be the revision from the function's ETag, e.g. \"3\"; was " + ifMatch);
        }
    }

    static int intParam(ServerRequest req, String name, int dflt, int min, int max) {
        Optional<String> v = req.query().first(name).asOptional();
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            int value = Integer.parseInt(v.get().trim());
            if (value < min || value > max) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid_request", name,
                    name + " must be a whole number from " + min + " to " + max + ", was '" + v.get() + "'");
        }
    }

    static io.helidon.webserver.http.Handler methodNotAllowed(String allowed) {
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, allowed);
            Responses.json(res, 405, Responses.errorBody("method_not_allowed",
                    req.prologue().method().text() + " is not allowed here; use " + allowed, null));
        };
    }
}
