package io.granda.http.internal;

import io.granda.core.access.ApiKeys;
import io.granda.core.access.AuthFailureLimiter;
import io.granda.core.access.KeyCheck;
import io.granda.core.access.Role;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HexFormat;
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
 *
 * <p>Every credential that fails (not a missing one) counts against the client's address in the platform's
 * {@link AuthFailureLimiter}; a client over its limit gets {@code 429 too_many_failed_authentications} with
 * {@code Retry-After} for every request that carries credentials, before they are looked at. IPv6 clients are counted
 * by their /64, which one host usually has whole: by single addresses a guesser would have billions.
 *
 * <p>Two roles' rules hold for every management route, old and new, and are enforced here, in {@link #caller}, so
 * that a route added later cannot forget them: a reader's key may only look (GET, HEAD), and an invoker's key may
 * not use the management API at all ({@code 403 invoke_only_key}) but for {@code GET /whoami}, the one route that
 * opts in ({@link #authenticatedAnyRole}). The function call path ({@link #callerIfAny}) applies no role's rule:
 * it decides itself who may call what.
 */
public final class Authenticator {

    /** The header for clients that cannot set {@code Authorization}. */
    public static final String KEY_HEADER = "X-Granda-Key";
    private static final String BEARER = "bearer ";

    private final ApiKeys keys;
    private final AuthFailureLimiter failures;
    private final boolean required;

    /**
     * @param keys     the keys to check against
     * @param failures where failed checks are counted, shared by every authenticator of the platform
     * @param required whether requests need a key; when not, everyone is {@link Caller#UNAUTHENTICATED_ADMIN}
     */
    public Authenticator(ApiKeys keys, AuthFailureLimiter failures, boolean required) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.failures = Objects.requireNonNull(failures, "failures");
        this.required = required;
    }

    /**
     * @param granda the platform whose keys to check against
     * @param config whether keys are required
     * @return the authenticator of a service of that platform
     */
    public static Authenticator of(io.granda.core.Granda granda, io.granda.http.GrandaHttpConfig config) {
        return new Authenticator(granda.apiKeys(), granda.authFailures(), config.requireApiKey());
    }

    /** @return whether requests need a key */
    public boolean required() {
        return required;
    }

    /**
     * Who sends a request to the management API.
     *
     * @param req a request
     * @return who sends it
     * @throws ApiException 401 when it carries no valid key; 403 {@code read_only_key} when a reader's key asks
     *                      for anything but GET or HEAD; 403 {@code invoke_only_key} for an invoker's key, whatever
     *                      it asks
     */
    public Caller caller(ServerRequest req) {
        return caller(req, false);
    }

    /**
     * @param invokerWelcome whether the route lets an invoker's key in (only {@code GET /whoami} does)
     */
    private Caller caller(ServerRequest req, boolean invokerWelcome) {
        if (!required) {
            return Caller.UNAUTHENTICATED_ADMIN;
        }
        Caller caller = authenticate(req).orElseThrow(() -> unauthorized(
                "this endpoint needs an API key: send it as 'Authorization: Bearer <key>' (or '" + KEY_HEADER
                        + ": <key>')"));
        // One rule per role for every management route, old and new, enforced here rather than per route so that a
        // route added later cannot forget them: an invoker only calls functions (at their URLs, not here), and a
        // reader looks and never changes anything.
        if (caller.role() == Role.INVOKER && !invokerWelcome) {
            throw invokeOnlyKey(caller);
        }
        if (caller.role() == Role.READER && !readOnly(req.prologue().method())) {
            throw readOnlyKey(caller);
        }
        return caller;
    }

    private static boolean readOnly(Method method) {
        return method.equals(Method.GET) || method.equals(Method.HEAD);
    }

    /** @return the 403 for a reader's key used to change something, or to call a private function */
    public static ApiException readOnlyKey(Caller caller) {
        return new ApiException(403, "read_only_key", null, "the API key '" + caller.keyId() + "' is read-only "
                + "(role reader): it may look (GET) at tenant '" + caller.tenant() + "' but not change anything or "
                + "call its private functions; use a tenant key");
    }

    /** @return the 403 for an invoker's key used on the management API */
    public static ApiException invokeOnlyKey(Caller caller) {
        return new ApiException(403, "invoke_only_key", null, "the API key '" + caller.keyId() + "' may only call "
                + "functions (role invoker): " + scopeOf(caller) + " at their URLs (/f/...), and GET /whoami; "
                + "nothing of the management API, not even to look. Use a tenant or reader key");
    }

    /** @return the 403 for an invoker's key calling a function of its tenant its list of functions leaves out */
    public static ApiException functionNotInKeyScope(Caller caller, String function) {
        return new ApiException(403, "function_not_in_key_scope", null, "the API key '" + caller.keyId()
                + "' (role invoker) may not call function '" + function + "': it may call only "
                + scopeOf(caller));
    }

    /** @return what an invoker's key may call, in words */
    private static String scopeOf(Caller caller) {
        return caller.functions() == null ? "the private functions of tenant '" + caller.tenant() + "'"
                : "the functions " + String.join(", ", caller.functions()) + " of tenant '" + caller.tenant() + "'";
    }

    /**
     * Who calls a function at its URL. Unlike {@link #caller}, it applies no role's rule: the call path decides
     * itself who may call what (an invoker's key may, a reader's may not), so never use it for a management route.
     *
     * @param req a request
     * @return who sends it, empty when it carries no credentials at all (or keys are not required)
     * @throws ApiException 401 when it carries credentials that are not a valid key; 429 when its address has
     *                      failed too often lately
     */
    public Optional<Caller> callerIfAny(ServerRequest req) {
        if (!required) {
            return Optional.of(Caller.UNAUTHENTICATED_ADMIN);
        }
        return authenticate(req);
    }

    /** @return who sends the request, empty when it carries no credentials */
    private Optional<Caller> authenticate(ServerRequest req) {
        if (!req.headers().contains(HeaderNames.create(KEY_HEADER)) && !req.headers().contains(HeaderNames.AUTHORIZATION)) {
            return Optional.empty();
        }
        String client = clientOf(req);
        // Before the key is looked at: a refused guess costs no hash and no store read.
        Optional<java.time.Duration> wait = failures.retryAfter(client);
        if (wait.isPresent()) {
            long seconds = wait.get().toSeconds();
            throw new ApiException(429, "too_many_failed_authentications", null, "too many failed authentications "
                    + "from this address (" + failures.limit() + " within " + failures.window().toSeconds()
                    + " s); no key is checked for it until then: retry in " + seconds + " s", seconds);
        }
        try {
            return presented(req).map(this::check);
        } catch (ApiException e) {
            failures.recordFailure(client);
            throw e;
        }
    }

    /** @return the client's address as failures are counted: IPv4 whole, IPv6 by its /64 */
    static String clientOf(ServerRequest req) {
        SocketAddress peer = req.remotePeer().address();
        if (!(peer instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return String.valueOf(peer);
        }
        InetAddress address = inet.getAddress();
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            return HexFormat.of().formatHex(b, 0, 8) + "::/64";
        }
        return address.getHostAddress();
    }

    private Caller check(String token) {
        KeyCheck check = keys.check(token);
        return switch (check.result()) {
            case VALID -> new Caller(check.key().tenant(), check.key().role(), check.key().keyId(),
                    check.key().functions());
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
     * For {@code GET /whoami} only, which tells any key what it is: like {@link #authenticated}, but an invoker's key
     * is let in too. Every other management route refuses it.
     *
     * @param context what the handler does, for logs
     * @param handler the handler, given the caller
     * @return a handler that first needs a valid key of any role, and turns every failure into a JSON error
     */
    public Handler authenticatedAnyRole(String context, CallerHandler handler) {
        return Responses.guarded(context, (req, res) -> handler.handle(caller(req, true), req, res));
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
