package io.granda.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.Granda;
import io.granda.core.spi.ComponentHealth;
import io.granda.http.internal.Json;
import io.granda.http.internal.Responses;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.Map;
import java.util.Objects;

/**
 * {@code GET /health}: 200 when the backend is reachable and the store writable, else 503; the body says which part
 * is down and why. Mount it at {@code /health}. Thread-safe.
 */
public final class HealthService implements HttpService {

    private final Granda granda;

    /** @param granda the platform to check */
    public HealthService(Granda granda) {
        this.granda = Objects.requireNonNull(granda);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", Responses.guarded("health", this::health));
    }

    private void health(ServerRequest req, ServerResponse res) {
        Map<String, ComponentHealth> report = granda.health();
        boolean up = report.values().stream().allMatch(ComponentHealth::up);
        ObjectNode body = Json.object();
        body.put("status", up ? "UP" : "DOWN");
        ObjectNode checks = body.putObject("checks");
        report.forEach((name, h) -> {
            ObjectNode c = checks.putObject(name);
            c.put("status", h.up() ? "UP" : "DOWN");
            c.put("detail", h.detail());
        });
        body.put("callsInFlight", granda.callsInFlight());
        Responses.json(res, up ? 200 : 503, body);
    }
}
