package io.granda.http;

import io.granda.http.internal.Responses;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code GET /metrics}: every meter of a Prometheus registry in the Prometheus text format, or in OpenMetrics when
 * the scraper asks for it ({@code Accept: application/openmetrics-text}, as Prometheus does). Mount it at
 * {@code /metrics}, e.g. with {@link GrandaHttp#mountMetrics}. Thread-safe.
 *
 * <p>Metrics name functions and tenants. By default they need no credentials (scrapers are usually inside the
 * network; keep {@code /metrics} there); with a token, a scrape must send {@code Authorization: Bearer <token>}
 * and anything else gets a JSON {@code 401}.
 */
public final class MetricsService implements HttpService {

    /** Content type of the Prometheus text format. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** Content type of the OpenMetrics text format. */
    public static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    /** SHA-256 of the expected Authorization value, or null when none is needed. */
    private final byte[] expected;

    /** @param registry the registry to show (the application's own, or one made for Granda) */
    public MetricsService(PrometheusMeterRegistry registry) {
        this(registry, Optional.empty());
    }

    /**
     * @param registry the registry to show
     * @param token    the token scrapers must send as {@code Authorization: Bearer <token>}; empty for none
     */
    public MetricsService(PrometheusMeterRegistry registry, Optional<String> token) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.expected = token.filter(t -> !t.isBlank()).map(t -> digest("Bearer " + t.strip())).orElse(null);
    }

    private static byte[] digest(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", Responses.guarded("metrics", this::metrics));
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        if (expected != null) {
            String sent = req.headers().first(HeaderNames.AUTHORIZATION).map(String::strip).orElse("");
            // Hashes of equal length, compared in constant time: the answer's timing says nothing of the token.
            if (!MessageDigest.isEqual(expected, digest(sent))) {
                Responses.json(res, 401, Responses.errorBody("unauthorized",
                        "/metrics needs the metrics token: send 'Authorization: Bearer <token>'", null));
                return;
            }
        }
        String accept = req.headers().first(HeaderNames.ACCEPT).orElse("").toLowerCase(Locale.ROOT);
        // Never protobuf: the content type chosen here is what the registry writes.
        String type = accept.contains("application/openmetrics-text") ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
        byte[] body = registry.scrape(type).getBytes(StandardCharsets.UTF_8);
        res.header(HeaderNames.CONTENT_TYPE, type);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(body);
    }
}
