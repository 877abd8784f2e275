package io.granda.http;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.Granda;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationRequest;
import io.granda.core.Page;
import io.granda.core.async.Accepted;
import io.granda.core.async.AsyncEvent;
import io.granda.core.async.AsyncPolicy;
import io.granda.core.async.EventNotFoundException;
import io.granda.core.async.EventStatus;
import io.granda.core.async.GrandaEvents;
import io.granda.http.internal.ApiException;
import io.granda.http.internal.Authenticator;
import io.granda.http.internal.Caller;
import io.granda.http.internal.Bodies;
import io.granda.http.internal.EventJson;
import io.granda.http.internal.InvocationJson;
import io.granda.http.internal.Json;
import io.granda.http.internal.Responses;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Asynchronous invocations over HTTP. Mount it at {@code /}:
 * <ul>
 *   <li>{@code POST /functions/{name}/async}: accept an event (the body is the payload) → 202 with its id;
 *       {@code Idempotency-Key} and {@code X-Granda-Callback} headers are honoured</li>
 *   <li>{@code GET /invocations/{id}}: an event's status and result, or a synchronous call's record</li>
 *   <li>{@code POST /invocations/{id}/redrive}: run a dead event again</li>
 *   <li>{@code GET /functions/{name}/events?status=&limit=&cursor=}: a function's events, newest first
 *       ({@code status=dead} is its dead-letter list); {@code GET /events} for every function</li>
 *   <li>{@code POST /functions/{name}/events/redrive}: re-drive every dead event of a function</li>
 *   <li>{@code GET} / {@code PUT /functions/{name}/async-config}: retries, age, concurrency, schedule, callback</li>
 * </ul>
 * With no {@link GrandaEvents} (async disabled) only {@code GET /invocations/{id}} of synchronous calls answers;
 * the rest answer 404 {@code async_disabled}. Thread-safe.
 */
public final class AsyncApiService implements HttpService {

    /** Header naming a sender's idempotency key (as in the IETF draft and most payment APIs). */
    public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
    /** Header naming the URL a finished event's result is POSTed to. */
    public static final String CALLBACK_HEADER = "X-Granda-Callback";
    private static final int DEFAULT_PAGE = 50;
    /** Headers that concern the call to Granda and are not passed to the function. */
    private static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate",
            "authorization", "cookie", "host", "content-length", "idempotency-key");

    private final Granda granda;
    private final GrandaEvents events;
    private final Authenticator auth;

    /**
     * @param granda the platform
     * @param events its event engine, or {@code null} when async invocations are disabled
     * @param config HTTP settings (whether API keys are required)
     */
    public AsyncApiService(Granda granda, GrandaEvents events, GrandaHttpConfig config) {
        this.granda = Objects.requireNonNull(granda, "granda");
        this.events = events;
        this.auth = Authenticator.of(granda, config);
    }

    @Override
    public void routing(HttpRules rules) {
        // Every route needs a key; a tenant key sees only its own functions' events, and another tenant's answer 404
        // exactly as a missing one.
        rules.post("/functions/{name}/async", auth.authenticated("accept event", this::submit))
                .get("/functions/{name}/events", auth.authenticated("list events", this::listOfFunction))
                .post("/functions/{name}/events/redrive", auth.authenticated("redrive events", this::redriveAll))
                .get("/functions/{name}/async-config", auth.authenticated("get async config", this::getPolicy))
                .put("/functions/{name}/async-config", auth.authenticated("set async config", this::setPolicy))
                .get("/events", auth.authenticated("list events", this::listAll))
                .get("/invocations/{id}", auth.authenticated("get invocation", this::get))
                .post("/invocations/{id}/redrive", auth.authenticated("redrive event", this::redrive))
                .any("/functions/{name}/async", FunctionsApiService.methodNotAllowed("POST"))
                .any("/functions/{name}/events", FunctionsApiService.methodNotAllowed("GET"))
                .any("/functions/{name}/events/redrive", FunctionsApiService.methodNotAllowed("POST"))
                .any("/functions/{name}/async-config", FunctionsApiService.methodNotAllowed("GET, PUT"))
                .any("/events", FunctionsApiService.methodNotAllowed("GET"))
                .any("/invocations/{id}", FunctionsApiService.methodNotAllowed("GET"))
                .any("/invocations/{id}/redrive", FunctionsApiService.methodNotAllowed("POST"));
    }

    private GrandaEvents events() {
        if (events == null) {
            throw new ApiException(404, "async_disabled", null,
                    "asynchronous invocations are not enabled on this server");
        }
        return events;
    }

    /** @return the named function when the caller may see it; another tenant's is as missing as a missing one */
    private DeployedFunction visible(Caller caller, String name) {
        return granda.function(caller.scope(), name)
                .orElseThrow(() -> new FunctionNotFoundException("no function named '" + name + "'"));
    }

    private void submit(Caller caller, ServerRequest req, ServerResponse res) {
        GrandaEvents ev = events();
        DeployedFunction f = visible(caller, req.path().pathParameters().get("name"));
        byte[] body = Bodies.read(req, granda.options().maxPayloadBytes(), "payload");
        InvocationRequest call = new InvocationRequest("POST", "/", req.query().rawValue(), forwarded(req), body);
        Accepted a = ev.submit(f, call, header(req, IDEMPOTENCY_KEY_HEADER), header(req, CALLBACK_HEADER), "api");
        accepted(res, a);
    }

    /**
     * Answers an accepted event: 202 with its id and a Location to poll; a duplicate (same idempotency key) is
     * answered the same way, with {@code Idempotent-Replayed: true}.
     */
    static void accepted(ServerResponse res, Accepted a) {
        res.header(HeaderNames.LOCATION, "/invocations/" + a.event().id());
        res.header(InvokeService.INVOCATION_ID_HEADER, a.event().id());
        if (a.duplicate()) {
            res.header("Idempotent-Replayed", "true");
        }
        Responses.json(res, 202, EventJson.accepted(a));
    }

    /** @return the request's headers a function should see */
    static Map<String, List<String>> forwarded(ServerRequest req) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        req.headers().forEach(h -> {
            String lower = h.name().toLowerCase(Locale.ROOT);
            if (!NOT_FORWARDED.contains(lower) && !lower.startsWith("x-granda-")) {
                out.computeIfAbsent(h.name(), k -> new ArrayList<>()).addAll(h.allValues());
            }
        });
        return out;
    }

    static String header(ServerRequest req, String name) {
        return req.headers().first(HeaderNames.create(name)).orElse(null);
    }

    private void get(Caller caller, ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        Optional<AsyncEvent> event = events == null ? Optional.empty()
                : events.event(id).filter(e -> caller.actsFor(e.tenant()));
        if (event.isPresent()) {
            Responses.json(res, 200, EventJson.render(event.get()));
            return;
        }
        Optional<InvocationRecord> record = granda.invocation(id).filter(r -> caller.actsFor(r.tenant()));
        if (record.isPresent()) {
            Responses.json(res, 200, InvocationJson.render(record.get()).put("async", false));
            return;
        }
        throw new EventNotFoundException("no invocation with id " + id);
    }

    private void redrive(Caller caller, ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        if (events().event(id).filter(found -> caller.actsFor(found.tenant())).isEmpty()) {
            throw new EventNotFoundException("no event with id " + id);
        }
        AsyncEvent e = events().redrive(id);
        res.header(HeaderNames.LOCATION, "/invocations/" + e.id());
        Responses.json(res, 202, EventJson.render(e));
    }

    private void redriveAll(Caller caller, ServerRequest req, ServerResponse res) {
        String name = visible(caller, req.path().pathParameters().get("name")).name();
        int n = events().redriveDead(name);
        Responses.json(res, 202, Json.object().put("function", name).put("redriven", n));
    }

    private void listOfFunction(Caller caller, ServerRequest req, ServerResponse res) {
        list(req, res, visible(caller, req.path().pathParameters().get("name")).name());
    }

    private void listAll(Caller caller, ServerRequest req, ServerResponse res) {
        Optional<String> function = req.query().first("function").asOptional();
        if (function.isEmpty() && !caller.admin()) {
            // Events are listed by function; a tenant key lists one of its own at a time.
            throw ApiException.badRequest("invalid_request", "function",
                    "a tenant key lists the events of one function at a time: add ?function=<name>");
        }
        list(req, res, function.map(name -> visible(caller, name).name()).orElse(null));
    }

    private void list(ServerRequest req, ServerResponse res, String function) {
        GrandaEvents ev = events();
        EventStatus status = req.query().first("status").asOptional().map(s -> {
            try {
                return EventStatus.fromApiName(s.trim());
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("invalid_request", "status", e.getMessage());
            }
        }).orElse(null);
        int limit = FunctionsApiService.intParam(req, "limit", DEFAULT_PAGE, 1, 1000);
        String cursor = req.query().first("cursor").asOptional().orElse(null);
        Page<AsyncEvent> page = ev.events(function, status, limit, cursor);
        var body = Json.object();
        var items = body.putArray("events");
        page.items().forEach(e -> items.add(EventJson.render(e)));
        if (page.nextCursor() != null) {
            body.put("nextCursor", page.nextCursor());
        } else {
            body.putNull("nextCursor");
        }
        Responses.json(res, 200, body);
    }

    private void getPolicy(Caller caller, ServerRequest req, ServerResponse res) {
        String name = visible(caller, req.path().pathParameters().get("name")).name();
        Responses.json(res, 200, EventJson.render(events().policy(name)).put("function", name));
    }

    private void setPolicy(Caller caller, ServerRequest req, ServerResponse res) {
        GrandaEvents ev = events();
        String name = visible(caller, req.path().pathParameters().get("name")).name();
        Bodies.requireContentType(req, "application/json");
        AsyncPolicy base = ev.policy(name);
        AsyncPolicy policy = EventJson.parsePolicy(Json.parse(Bodies.read(req, 64 * 1024, "body")), base);
        ev.setPolicy(name, policy);
        Responses.json(res, 200, EventJson.render(policy).put("function", name));
    }
}
