package io.granda.http;

import io.granda.http.internal.Responses;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The web console: the landing page at {@code /}, the console at {@code /console}, and their assets at
 * {@code /console/assets/<file>}, all from classpath resources under {@code io/granda/http/console/} (see
 * docs/console.md). Nothing is fetched from anywhere else: the pages' Content-Security-Policy allows this origin only.
 * Mount it at {@code /}. Thread-safe: every file is read and hashed once, at construction.
 *
 * <p>Only the files listed in {@link #FILES} are served, looked up by exact name, so no request path can reach any
 * other resource (no {@code ..}, no directories). Each answer carries a strong {@code ETag} (a hash of the content)
 * and {@code Cache-Control: no-cache}: browsers keep the files and revalidate them, and get {@code 304} while they
 * are unchanged, so a new Granda version is picked up at once.
 */
public final class ConsoleService implements HttpService {

    /** Where the console's files are on the classpath. */
    static final String RESOURCE_DIR = "io/granda/http/console/";

    /** Every file served: the two pages and the assets. */
    static final List<String> FILES = List.of("index.html", "console.html", "console.css", "app.js", "api.js",
            "dom.js", "editor.js", "chart.js", "samples.js", "favicon.svg");

    /** This origin only: no inline script or style, no plugins, no framing, nothing fetched from elsewhere. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";

    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "svg", "image/svg+xml",
            "woff2", "font/woff2",
            "png", "image/png",
            "json", "application/json");

    private record Asset(byte[] content, String contentType, String etag) {
    }

    private final Map<String, Asset> assets;

    /** Reads the console's files from the classpath. */
    public ConsoleService() {
        Map<String, Asset> loaded = new LinkedHashMap<>();
        for (String file : FILES) {
            loaded.put(file, load(file));
        }
        this.assets = Map.copyOf(loaded);
    }

    private static Asset load(String file) {
        String path = RESOURCE_DIR + file;
        try (InputStream in = ConsoleService.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("console resource " + path + " is missing from the classpath");
            }
            byte[] content = in.readAllBytes();
            String extension = file.substring(file.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
            String type = CONTENT_TYPES.getOrDefault(extension, "application/octet-stream");
            return new Asset(content, type, "\"" + sha256(content).substring(0, 32) + "\"");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read console resource " + path, e);
        }
    }

    private static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", (req, res) -> send(req, res, "index.html"))
                .get("/console", (req, res) -> send(req, res, "console.html"))
                .get("/console/", (req, res) -> send(req, res, "console.html"))
                .get("/console/assets/{file}", this::asset);
    }

    private void asset(ServerRequest req, ServerResponse res) {
        String file = req.path().pathParameters().get("file");
        if (file.endsWith(".html") || !assets.containsKey(file)) {
            notFound(req, res);
            return;
        }
        send(req, res, file);
    }

    private void send(ServerRequest req, ServerResponse res, String file) {
        Asset a = assets.get(file);
        res.header(HeaderNames.ETAG, a.etag());
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.header("Referrer-Policy", "no-referrer");
        if (file.endsWith(".html")) {
            res.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
            res.header("X-Frame-Options", "DENY");
        }
        if (matches(req.headers().first(HeaderNames.IF_NONE_MATCH), a.etag())) {
            res.status(304).send();
            return;
        }
        res.header(HeaderNames.CONTENT_TYPE, a.contentType());
        res.status(200).send(a.content());
    }

    /** @return true when an {@code If-None-Match} header names this ETag (weakly compared, as RFC 9110 asks) */
    static boolean matches(Optional<String> ifNoneMatch, String etag) {
        if (ifNoneMatch.isEmpty()) {
            return false;
        }
        for (String candidate : ifNoneMatch.get().split(",")) {
            String c = candidate.trim();
            if (c.equals("*")) {
                return true;
            }
            if (c.startsWith("W/")) {
                c = c.substring(2);
            }
            if (c.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    private static void notFound(ServerRequest req, ServerResponse res) {
        Responses.json(res, 404, Responses.errorBody("not_found",
                "nothing is served at " + req.path().path(), null));
    }
}
