package io.granda.http;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of Granda's HTTP services: an immutable value.
 *
 * @param publicUrl       the base URL users reach this server at (e.g. {@code https://fn.example.com}); when absent,
 *                        a function's URL is derived from the {@code Host} header of the request that asked for it
 * @param maxJsonBytes    largest management request body accepted (default 1 MiB)
 * @param corsAllowOrigin value of {@code Access-Control-Allow-Origin} on the original Granda API and on function
 *                        URLs ({@code *} as the original Granda sent)
 * @param requireApiKey   whether management calls (and calls of private functions) need an API key of
 *                        {@link io.granda.core.Granda#apiKeys()} (default true). Turn it off only where something in
 *                        front of Granda authenticates callers: every caller is then an admin
 */
public record GrandaHttpConfig(Optional<URI> publicUrl, int maxJsonBytes, String corsAllowOrigin,
                               boolean requireApiKey) {

    /** Defaults: URLs from the Host header, 1 MiB JSON bodies, CORS open to every origin, API keys required. */
    public static final GrandaHttpConfig DEFAULTS = new GrandaHttpConfig(Optional.empty(), 1024 * 1024, "*", true);

    public GrandaHttpConfig {
        Objects.requireNonNull(publicUrl, "publicUrl");
        Objects.requireNonNull(corsAllowOrigin, "corsAllowOrigin");
        publicUrl.ifPresent(u -> {
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
                throw new IllegalArgumentException("publicUrl must be an http(s) URL, was " + u);
            }
        });
        if (maxJsonBytes < 1024) {
            throw new IllegalArgumentException("maxJsonBytes must be at least 1024");
        }
    }

    /** @return a copy with the given public URL ({@code null} or blank to derive it from requests) */
    public GrandaHttpConfig withPublicUrl(String url) {
        if (url == null || url.isBlank()) {
            return new GrandaHttpConfig(Optional.empty(), maxJsonBytes, corsAllowOrigin, requireApiKey);
        }
        String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        return new GrandaHttpConfig(Optional.of(URI.create(trimmed)), maxJsonBytes, corsAllowOrigin, requireApiKey);
    }

    /** @return a copy that requires API keys, or not (every caller is then an admin) */
    public GrandaHttpConfig withRequireApiKey(boolean require) {
        return new GrandaHttpConfig(publicUrl, maxJsonBytes, corsAllowOrigin, require);
    }
}
