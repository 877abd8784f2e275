package io.granda.http.internal;

import io.granda.core.DeployedFunction;
import io.granda.http.GrandaHttpConfig;
import io.helidon.webserver.http.ServerRequest;

/**
 * Where things live in Granda's URL space. Not API.
 */
public final class Routes {

    /** Function URLs are {@code /f/<routeId>[/<path the function sees>]}. */
    public static final String FUNCTION_PREFIX = "/f/";

    private Routes() {
    }

    /** @return the path of a function's URL */
    public static String functionPath(DeployedFunction f) {
        return FUNCTION_PREFIX + f.routeId();
    }

    /**
     * @return scheme://host[:port] users reach this server at: the configured public URL, else what the request's
     *         Host header says
     */
    public static String baseUrl(ServerRequest req, GrandaHttpConfig config) {
        if (config.publicUrl().isPresent()) {
            return config.publicUrl().get().toString();
        }
        String authority = req.authority();
        if (authority == null || authority.isBlank()) {
            authority = "localhost:" + req.localPeer().port();
        }
        return (req.isSecure() ? "https://" : "http://") + authority;
    }
}
