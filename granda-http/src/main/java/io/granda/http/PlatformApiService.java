package io.granda.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.BuildInfo;
import io.granda.core.Granda;
import io.granda.core.build.BaseImage;
import io.granda.core.build.LanguageRuntime;
import io.granda.http.internal.ApiException;
import io.granda.http.internal.Authenticator;
import io.granda.http.internal.Caller;
import io.granda.http.internal.BuildJson;
import io.granda.http.internal.Json;
import io.granda.http.internal.Responses;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.Objects;

/**
 * What the platform offers beyond single functions: {@code GET /runtimes} (the languages functions can be written in)
 * and {@code GET /builds/{id}} (one build, live while it runs). Mount it at {@code /}. Both need an API key; a tenant
 * key sees its own tenant's builds only. Thread-safe.
 */
public final class PlatformApiService implements HttpService {

    private final Granda granda;
    private final Authenticator auth;

    /**
     * For callers with an API key.
     *
     * @param granda the platform
     */
    public PlatformApiService(Granda granda) {
        this(granda, GrandaHttpConfig.DEFAULTS);
    }

    /**
     * @param granda the platform
     * @param config HTTP settings (whether API keys are required)
     */
    public PlatformApiService(Granda granda, GrandaHttpConfig config) {
        this.granda = Objects.requireNonNull(granda);
        this.auth = Authenticator.of(granda, config);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/runtimes", auth.authenticated("list runtimes", this::runtimes))
                .get("/builds/{id}", auth.authenticated("get build", this::build));
    }

    private void runtimes(Caller caller, ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object();
        ArrayNode items = body.putArray("items");
        for (LanguageRuntime r : granda.runtimes().all()) {
            ObjectNode n = items.addObject();
            n.put("name", r.name());
            n.put("description", r.description());
            ArrayNode aliases = n.putArray("aliases");
            r.aliases().stream().sorted().forEach(aliases::add);
            n.put("handlerFile", r.handlerFile());
            r.manifestFile().ifPresentOrElse(m -> n.put("manifestFile", m), () -> n.putNull("manifestFile"));
            ObjectNode bases = n.putObject("baseImages");
            for (BaseImage b : r.baseImages()) {
                ArrayNode candidates = bases.putArray(b.role());
                b.candidates().forEach(candidates::add);
            }
        }
        Responses.json(res, 200, body);
    }

    private void build(Caller caller, ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        BuildInfo b = granda.build(caller.scope(), id).orElseThrow(() -> new ApiException(404, "no_build", null,
                "no build '" + id + "' is remembered (builds are kept in memory until a restart)"));
        Responses.json(res, 200, BuildJson.render(b, true));
    }
}
