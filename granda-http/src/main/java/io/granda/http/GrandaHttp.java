package io.granda.http;

import io.granda.core.Granda;
import io.granda.core.async.GrandaEvents;
import io.granda.http.internal.Json;
import io.granda.http.internal.Responses;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http1.Http1Config;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Mounts all of Granda's HTTP services on a Helidon routing, at the paths the docs describe. An application that
 * wants only some of them registers the services itself, e.g.
 * {@code routing.register("/f", new InvokeService(granda, config))}.
 */
public final class GrandaHttp {

    private GrandaHttp() {
    }

    /**
     * Registers {@code /functions}, {@code /usage}, {@code /f}, {@code /health}, {@code /runtimes}, {@code /builds},
     * {@code /tenants}, {@code /keys}, {@code /whoami}, the original Granda API at {@code /}, and the web console
     * ({@link ConsoleService}: the landing page at {@code /}, the console at {@code /console}). Every management route
     * needs an API key of {@link Granda#apiKeys()} unless {@link GrandaHttpConfig#requireApiKey()} is off;
     * {@code /health}, the console's files and public functions' URLs never do.
     *
     * @param routing the routing to add to
     * @param granda  the platform
     * @param config  HTTP settings
     * @return the same routing builder
     */
    public static HttpRouting.Builder mount(HttpRouting.Builder routing, Granda granda, GrandaHttpConfig config) {
        return mount(routing, granda, null, config);
    }

    /**
     * As {@link #mount(HttpRouting.Builder, Granda, GrandaHttpConfig)}, with asynchronous invocations
     * ({@link AsyncApiService}, and {@code X-Granda-Invoke: async} on function URLs) when {@code events} is given.
     *
     * @param events the platform's event engine, or {@code null} to leave async invocations off
     */
    public static HttpRouting.Builder mount(HttpRouting.Builder routing, Granda granda, GrandaEvents events,
                                            GrandaHttpConfig config) {
        return routing
                .register("/", new AsyncApiService(granda, events, config))
                .register("/functions", new FunctionsApiService(granda, config))
                .register("/usage", new UsageApiService(granda, config))
                .register("/f", new InvokeService(granda, events, config))
                .register("/health", new HealthService(granda))
                .register("/", new ConsoleService())
                .register("/", new AdminApiService(granda, config))
                .register("/", new PlatformApiService(granda, config))
                .register("/", new LegacyApiService(granda, config));
    }

    /**
     * @return what a finished event's callback POSTs: the event as {@code GET /invocations/{id}} shows it; give it
     *         to {@link GrandaEvents.Builder#callbackBody}
     */
    public static java.util.function.Function<io.granda.core.async.AsyncEvent, byte[]> eventCallbackBody() {
        return io.granda.http.internal.EventJson::callbackBody;
    }

    /**
     * Registers {@code GET /metrics}: the registry's meters for Prometheus. Add {@link GrandaMetrics} to the registry
     * (and to the platform as a listener) for Granda's own meters; an application may pass the registry it already
     * has. Register it before {@link #notFoundFallback}.
     *
     * @param routing  the routing to add to
     * @param registry the registry to show
     * @return the same routing builder
     */
    public static HttpRouting.Builder mountMetrics(HttpRouting.Builder routing, PrometheusMeterRegistry registry) {
        return routing.register("/metrics", new MetricsService(registry));
    }

    /**
     * Registers {@code GET /metrics} behind a bearer token of its own, for a scraper configured with it (Prometheus:
     * {@code authorization: {credentials: <token>}}); see {@link #mountMetrics(HttpRouting.Builder,
     * PrometheusMeterRegistry)}.
     *
     * @param routing  the routing to add to
     * @param registry the registry to show
     * @param token    the token scrapers must send as {@code Authorization: Bearer <token>}; empty for none
     * @return the same routing builder
     */
    public static HttpRouting.Builder mountMetrics(HttpRouting.Builder routing, PrometheusMeterRegistry registry,
                                                   java.util.Optional<String> token) {
        return routing.register("/metrics", new MetricsService(registry, token));
    }

    /** Largest request line (method, URL, version) accepted unless configured: longer answers 414. */
    public static final int DEFAULT_MAX_REQUEST_LINE_BYTES = 8 * 1024;
    /** Largest header section accepted unless configured: larger answers 400 (Helidon does not say why). */
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

    /**
     * HTTP/1.1 settings with Granda's request limits: give to {@code WebServer.builder().addProtocol(...)}.
     *
     * @param maxRequestLineBytes largest request line (method, URL, version); a longer one answers 414
     * @param maxHeaderBytes      largest header section; a larger one (or too many headers) answers 400
     * @return the protocol configuration
     */
    public static Http1Config http1(int maxRequestLineBytes, int maxHeaderBytes) {
        return Http1Config.builder().maxPrologueLength(maxRequestLineBytes).maxHeadersSize(maxHeaderBytes).build();
    }

    /**
     * Answers for requests Helidon refuses before routing (a request line or headers it cannot parse or that exceed
     * the limits of {@link #http1}, an entity too large): the same JSON error body as every other refusal, where
     * Helidon would send an empty one. Helidon reports every problem of the request line or headers (malformed, or
     * headers over the size limit) as a plain 400 without saying which, so the message names them all.
     *
     * <p>One correction besides: Helidon 4.5 answers a request line whose method is not a valid token (e.g. non-ASCII
     * bytes, {@code "GÉT / HTTP/1.1"}) with a 500, because its prologue parser lets {@code Method.create}'s
     * {@link IllegalArgumentException} escape as an "internal error". Helidon hands such a failure to the handler
     * without its cause and without a parsed request; before a request is parsed Helidon has done nothing but parse
     * its bytes, so a failure there is the client's malformed request: it gets a JSON 400. An internal error after
     * parsing keeps Helidon's default answer. Pass to {@code WebServer.builder().directHandlers(...)}.
     *
     * @param maxRequestLineBytes the request line limit given to {@link #http1}, for messages
     * @param maxHeaderBytes      the header limit given to {@link #http1}, for messages
     * @return the direct handlers
     */
    public static DirectHandlers directHandlers(int maxRequestLineBytes, int maxHeaderBytes) {
        DirectHandler defaults = DirectHandler.defaultHandler();
        DirectHandler internalError = (request, eventType, defaultStatus, headers, message) ->
                unparsed(request) ? refusal(Status.BAD_REQUEST_400, "invalid_request", headers,
                        "the request line or a header is not valid HTTP")
                        : defaults.handle(request, eventType, defaultStatus, headers, message);
        DirectHandler refused = (request, eventType, defaultStatus, headers, message) -> switch (defaultStatus.code()) {
            // Helidon says only "Bad Request", whatever the cause: name every one it may be.
            case 400 -> refusal(defaultStatus, "invalid_request", headers, "the request line or a header is not"
                    + " valid HTTP, or the headers are larger than " + maxHeaderBytes + " bytes in all");
            case 413 -> refusal(defaultStatus, "payload_too_large", headers,
                    "the request body is larger than this server accepts");
            case 414 -> refusal(defaultStatus, "uri_too_long", headers, "the request line (method, URL and version)"
                    + " is longer than " + maxRequestLineBytes + " bytes");
            default -> refusal(defaultStatus, "http_error", headers,
                    message == null || message.isBlank() ? defaultStatus.reasonPhrase() : message);
        };
        DirectHandlers.Builder b = DirectHandlers.builder()
                .addHandler(DirectHandler.EventType.INTERNAL_ERROR, internalError);
        for (DirectHandler.EventType t : new DirectHandler.EventType[] {DirectHandler.EventType.BAD_REQUEST,
                DirectHandler.EventType.PAYLOAD_TOO_LARGE, DirectHandler.EventType.OTHER,
                DirectHandler.EventType.HTTP_VERSION_NOT_SUPPORTED}) {
            b.addHandler(t, refused);
        }
        return b.build();
    }

    /** {@link #directHandlers(int, int)} for the default limits. */
    public static DirectHandlers directHandlers() {
        return directHandlers(DEFAULT_MAX_REQUEST_LINE_BYTES, DEFAULT_MAX_HEADER_BYTES);
    }

    /** @return whether a failure came before Helidon had parsed the request line */
    static boolean unparsed(DirectHandler.TransportRequest request) {
        return request == null || request == DirectHandler.TransportRequest.empty() || request.method() == null
                || request.method().isEmpty();
    }

    private static DirectHandler.TransportResponse refusal(Status status, String code,
                                                          ServerResponseHeaders headers, String message) {
        return DirectHandler.TransportResponse.builder()
                .status(status)
                .headers(headers)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                // The connection may hold the rest of a request Helidon did not read: never reuse it.
                .keepAlive(false)
                .entity(Json.bytes(Responses.errorBody(code, message, null)))
                .build();
    }

    /**
     * Answers every request no route took with a JSON 404. Register it last.
     *
     * @param routing the routing to add to
     * @return the same routing builder
     */
    public static HttpRouting.Builder notFoundFallback(HttpRouting.Builder routing) {
        return routing.any((req, res) -> Responses.json(res, 404, Responses.errorBody("not_found",
                "nothing is served at " + req.path().path(), null)));
    }
}
