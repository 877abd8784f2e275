package io.granda.http;

import io.granda.core.Granda;
import io.granda.http.internal.Responses;
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
     * the original Granda API at {@code /}, and the web console ({@link ConsoleService}: the landing page at
     * {@code /}, the console at {@code /console}).
     *
     * @param routing the routing to add to
     * @param granda  the platform
     * @param config  HTTP settings
     * @return the same routing builder
     */
    public static HttpRouting.Builder mount(HttpRouting.Builder routing, Granda granda, GrandaHttpConfig config) {
        return routing
                .register("/functions", new FunctionsApiService(granda, config))
                .register("/usage", new UsageApiService(granda))
                .register("/f", new InvokeService(granda, config))
                .register("/health", new HealthService(granda))
                .register("/", new ConsoleService())
                .register("/", new PlatformApiService(granda))
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
