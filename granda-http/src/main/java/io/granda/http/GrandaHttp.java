package io.granda.http;

import io.granda.core.Granda;
import io.granda.http.internal.Json;
import io.granda.http.internal.Responses;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
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
        return routing
                .register("/functions", new FunctionsApiService(granda, config))
                .register("/usage", new UsageApiService(granda, config))
                .register("/f", new InvokeService(granda, config))
                .register("/health", new HealthService(granda))
                .register("/", new ConsoleService())
                .register("/", new AdminApiService(granda, config))
                .register("/", new PlatformApiService(granda, config))
                .register("/", new LegacyApiService(granda, config));
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

    /**
     * Helidon's handlers of requests refused before routing, with one correction: Helidon 4.5 answers a request line
     * whose method is not a valid token (e.g. non-ASCII bytes, {@code "GÉT / HTTP/1.1"}) with a 500, because its
     * prologue parser lets {@code Method.create}'s {@link IllegalArgumentException} escape as an "internal error".
     * Helidon hands such a failure to the handler without its cause and without a parsed request; before a request
     * is parsed Helidon has done nothing but parse its bytes, so a failure there is the client's malformed request:
     * it gets a JSON 400 and the connection is closed. Every other event keeps Helidon's default answer. Pass to
     * {@code WebServer.builder().directHandlers(...)}.
     *
     * @return the direct handlers
     */
    public static DirectHandlers directHandlers() {
        DirectHandler defaults = DirectHandler.defaultHandler();
        DirectHandler internalError = (request, eventType, defaultStatus, headers, message) ->
                unparsed(request) ? badRequest(headers)
                        : defaults.handle(request, eventType, defaultStatus, headers, message);
        return DirectHandlers.builder().addHandler(DirectHandler.EventType.INTERNAL_ERROR, internalError).build();
    }

    /** @return whether a failure came before Helidon had parsed the request line */
    static boolean unparsed(DirectHandler.TransportRequest request) {
        return request == null || request == DirectHandler.TransportRequest.empty() || request.method() == null
                || request.method().isEmpty();
    }

    private static DirectHandler.TransportResponse badRequest(ServerResponseHeaders headers) {
        return DirectHandler.TransportResponse.builder()
                .status(Status.BAD_REQUEST_400)
                .headers(headers)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .keepAlive(false)
                .entity(Json.bytes(Responses.errorBody("invalid_request",
                        "the request line or a header is not valid HTTP", null)))
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
