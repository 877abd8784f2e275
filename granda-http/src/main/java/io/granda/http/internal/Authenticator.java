package io.granda.http.internal;

import io.granda.core.access.KeyCheck;
import io.granda.core.access.ApiKeys;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Finds who calls from the API key a request carries: {@code Authorization: Bearer <key>}, or
 * {@code X-Granda-Key: <key>} for clients that cannot set {@code Authorization}. Thread-safe. Not API.
 *
 * <p>A missing, malformed, unknown, revoked or expired key is refused with {@code 401 unauthorized} (and
 * {@code WWW-Authenticate: Bearer}), before the request is read any further: nothing is parsed, looked up or
 * changed for an unauthenticated request. When keys are not required, every caller is an admin of the default tenant.
 */
public final class Authenticator {

    /** The header for clients that cannot set {@code Authorization}. */
    public static final String KEY_HEADER = "X-Granda-Key";
    private static final String BEARER = "bearer ";

    private final ApiKeys keys;
    private final boolean required;

    /**
     * @param keys     the keys to check against
     * @param required whether requests need a key; when not, everyone is {@link Caller#UNAUTHENTICATED_ADMIN}
     */
    public Authenticator(ApiKeys keys, boolean required) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.required = required;
    }

    /**
     * @param granda the platform whose keys to check against
     * @param config whether keys are required
     * @return the authenticator of a service of that platform
     */
    public static Authenticator of(io.granda.core.Granda granda, io.granda.http.GrandaHttpConfig config) {
        return new Authenticator(granda.apiKeys(), config.requireApiKey());
    }

    /** @return whether requests need a key */
    public boolean required() {
        return required;
    }

    /**
     * @param req a request
     * @return who sends it
     * @throws ApiException 401 when it carries no valid key
     */
    public Caller caller(ServerRequest req) {
        if (!required) {
            return Caller.UNAUTHENTICATED_ADMIN;
        }
        return presented(req).map(this::check).orElseThrow(() -> unauthorized(
                "this endpoint needs an API key: send it as 'Authorization: Bearer <key>' (or '" + KEY_HEADER
                        + ": <key>')"));
    }

    /**
     * @param req a request
     * @return who sends it, empty when it carries no credentials at all (or keys are not required)
     * @throws ApiException 401 when it carries credentials that are not a valid key
     */
    public Optional<Caller> callerIfAny(ServerRequest req) {
        if (!required) {
            return Optional.of(Caller.UNAUTHENTICATED_ADMIN);
        }
        return presented(req).map(this::check);
    }

    private Caller check(String token) {
        KeyCheck check = keys.check(token);
        return switch (check.result()) {
            case VALID -> new Caller(check.key().tenant(), check.key().role(), check.key().keyId());
            // Said only to whoever holds the secret (a check tells a guesser nothing): a holder then knows to ask
            // for a new key rather than look for a typo.
            case EXPIRED -> throw unauthorized("the API key '" + check.key().keyId() + "' expired at "
                    + check.key().expiresAt() + "; ask for a new one");
            case MALFORMED, UNKNOWN, REVOKED -> throw unauthorized("the API key is not valid: unknown, revoked or "
                    + "mistyped");
        };
    }

    /**
     * @return the key the request carries: {@code X-Granda-Key} when there is one (so that a caller of a private
     *         function can send the function an {@code Authorization} of its own), else {@code Authorization: Bearer};
     *         an {@code Authorization} of another scheme alone counts as a key that is not valid, so that it is
     *         refused rather than ignored
     */
    private static Optional<String> presented(ServerRequest req) {
        Optional<String> header = req.headers().first(HeaderNames.create(KEY_HEADER));
        if (header.isPresent()) {
            return Optional.of(header.get().strip());
        }
        Optional<String> authorization = req.headers().first(HeaderNames.AUTHORIZATION);
        if (authorization.isEmpty()) {
            return Optional.empty();
        }
        String value = authorization.get().strip();
        if (value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Optional.of(value.substring(BEARER.length()).strip());
        }
        throw unauthorized("Authorization must be 'Bearer <key>'; the "
                + value.split(" ", 2)[0].toLowerCase(Locale.ROOT) + " scheme is not accepted (or send the key as '"
                + KEY_HEADER + "')");
    }

    /**
     * @param name  a request header's name
     * @param value its value
     * @return whether it carries a Granda API key (so that it must never reach a function)
     */
    public static boolean carriesKey(String name, String value) {
        if (name.equalsIgnoreCase(KEY_HEADER)) {
            return true;
        }
        if (!name.equalsIgnoreCase(HeaderNames.AUTHORIZATION.defaultCase())) {
            return false;
        }
        String v = value.strip();
        return v.regionMatches(true, 0, BEARER, 0, BEARER.length())
                && v.substring(BEARER.length()).strip().startsWith(io.granda.core.access.ApiKeyTokens.PREFIX);
    }

    /** @return a 401 with that message */
    public static ApiException unauthorized(String message) {
        return new ApiException(401, "unauthorized", null, message);
    }

    /** A handler that needs to know who calls. */
    @FunctionalInterface
    public interface CallerHandler {
        /**
         * @param caller who calls
         * @param req    the request
         * @param res    the response
         */
        void handle(Caller caller, ServerRequest req, ServerResponse res) throws Exception;
    }

    /**
     * @param context what the handler does, for logs
     * @param handler the handler, given the caller
     * @return a handler that first needs a valid key, and turns every failure into a JSON error
     */
    public Handler authenticated(String context, CallerHandler handler) {
        return Responses.guarded(context, (req, res) -> handler.handle(caller(req), req, res));
    }

    /**
     * @param context what the handler does, for logs
     * @param handler the handler, given the caller
     * @return a handler that needs a valid admin key ({@code 403 forbidden} for a tenant key)
     */
    public Handler admin(String context, CallerHandler handler) {
        return authenticated(context, (caller, req, res) -> {
            requireAdmin(caller);
            handler.handle(caller, req, res);
        });
    }

    /** @throws ApiException 403 when the caller is not an admin */
    public static void requireAdmin(Caller caller) {
        if (!caller.admin()) {
            throw new ApiException(403, "forbidden", null, "this endpoint needs an admin key; tenant '"
                    + caller.tenant() + "' has a tenant key");
        }
    }
}
