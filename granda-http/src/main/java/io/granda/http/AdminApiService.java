package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.Granda;
import io.granda.core.access.ApiKey;
import io.granda.core.access.ApiKeyNotFoundException;
import io.granda.core.access.ApiKeys;
import io.granda.core.access.IssuedApiKey;
import io.granda.core.access.Role;
import io.granda.core.access.Tenant;
import io.granda.http.internal.ApiException;
import io.granda.http.internal.Authenticator;
import io.granda.http.internal.Bodies;
import io.granda.http.internal.Caller;
import io.granda.http.internal.Json;
import io.granda.http.internal.Responses;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Tenants and API keys: {@code POST /tenants}, {@code GET /tenants}, {@code DELETE /tenants/{tenant}} (admin keys
 * only; a tenant that still owns functions is refused), {@code POST /tenants/{tenant}/keys} (the new key is in this
 * answer and nowhere else, ever; it may expire),
 * {@code GET /tenants/{tenant}/keys} (never secrets), {@code DELETE /keys/{keyId}} (revoke: refused from the next
 * request on) and {@code GET /whoami} (who the key sent is). Mount it at {@code /}. See docs/http-api.md. Thread-safe.
 *
 * <p>A tenant key manages its own tenant's keys (tenant, reader and invoker keys); an admin key every tenant's, admin
 * keys too. An invoker key may be limited to named functions ({@code functions}).
 */
public final class AdminApiService implements HttpService {

    /** Longest body of these requests. */
    private static final int MAX_BODY_BYTES = 16 * 1024;
    private static final Set<String> TENANT_FIELDS = Set.of("id");
    private static final Set<String> KEY_FIELDS = Set.of("name", "role", "expiresInDays", "expiresAt", "functions");

    private final Granda granda;
    private final ApiKeys keys;
    private final Authenticator auth;

    /**
     * @param granda the platform whose tenants and keys these are
     * @param config HTTP settings (whether API keys are required)
     */
    public AdminApiService(Granda granda, GrandaHttpConfig config) {
        this.granda = Objects.requireNonNull(granda);
        this.keys = granda.apiKeys();
        this.auth = Authenticator.of(granda, config);
    }

    @Override
    public void routing(HttpRules rules) {
        // Any key may ask who it is, an invoker's too: the one management route its key may use.
        rules.get("/whoami", auth.authenticatedAnyRole("who am I", this::whoami))
                .post("/tenants", auth.admin("create tenant", this::createTenant))
                .get("/tenants", auth.admin("list tenants", this::listTenants))
                .delete("/tenants/{tenant}", auth.admin("delete tenant", this::deleteTenant))
                .post("/tenants/{tenant}/keys", auth.authenticated("create key", this::createKey))
                .get("/tenants/{tenant}/keys", auth.authenticated("list keys", this::listKeys))
                .delete("/keys/{keyId}", auth.authenticated("revoke key", this::revokeKey))
                .any("/whoami", FunctionsApiService.methodNotAllowed("GET"))
                .any("/tenants", FunctionsApiService.methodNotAllowed("GET, POST"))
                .any("/tenants/{tenant}", FunctionsApiService.methodNotAllowed("DELETE"))
                .any("/tenants/{tenant}/keys", FunctionsApiService.methodNotAllowed("GET, POST"))
                .any("/keys/{keyId}", FunctionsApiService.methodNotAllowed("DELETE"));
    }

    private void whoami(Caller caller, ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object();
        body.put("tenant", caller.tenant());
        body.put("role", caller.role().name().toLowerCase(Locale.ROOT));
        if (caller.keyId() == null) {
            body.putNull("keyId");
            body.putNull("name");
            body.putNull("expiresAt");
        } else {
            body.put("keyId", caller.keyId());
            Optional<ApiKey> key = keys.key(caller.keyId());
            body.put("name", key.map(ApiKey::name).orElse(""));
            putInstant(body, "expiresAt", key.map(ApiKey::expiresAt).orElse(null));
        }
        putFunctions(body, caller.functions());
        body.put("apiKeysRequired", auth.required());
        Responses.json(res, 200, body);
    }

    private void createTenant(Caller caller, ServerRequest req, ServerResponse res) {
        ObjectNode body = readObject(req, TENANT_FIELDS, true);
        JsonNode id = body.get("id");
        if (id == null || !id.isTextual()) {
            throw ApiException.badRequest("invalid_request", "id", "id is required: the tenant's name, a string");
        }
        Tenant t;
        try {
            t = keys.createTenant(id.textValue());
        } catch (io.granda.core.InvalidFunctionSpecException e) {
            throw ApiException.badRequest("invalid_request", "id", e.getMessage());
        }
        res.header(HeaderNames.LOCATION, "/tenants/" + t.id() + "/keys");
        Responses.json(res, 201, render(t));
    }

    private void listTenants(Caller caller, ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object();
        ArrayNode items = body.putArray("items");
        keys.tenants().forEach(t -> items.add(render(t)));
        Responses.json(res, 200, body);
    }

    private void deleteTenant(Caller caller, ServerRequest req, ServerResponse res) {
        String tenant = req.path().pathParameters().get("tenant");
        granda.deleteTenant(tenant);
        res.status(204).send();
    }

    private void createKey(Caller caller, ServerRequest req, ServerResponse res) {
        String tenant = ownTenant(caller, req);
        ObjectNode body = readObject(req, KEY_FIELDS, false);
        Role role = Role.TENANT;
        JsonNode r = body.get("role");
        if (r != null && !r.isNull()) {
            role = switch (r.isTextual() ? r.textValue().toLowerCase(Locale.ROOT) : "") {
                case "tenant" -> Role.TENANT;
                case "admin" -> Role.ADMIN;
                case "reader" -> Role.READER;
                case "invoker" -> Role.INVOKER;
                default -> throw ApiException.badRequest("invalid_request", "role",
                        "role must be \"tenant\", \"reader\", \"invoker\" or \"admin\", was " + r);
            };
        }
        List<String> functions = functions(body);
        if (role == Role.ADMIN && !caller.admin()) {
            throw new ApiException(403, "forbidden", "role", "only an admin key may create an admin key");
        }
        JsonNode name = body.get("name");
        if (name != null && !name.isNull() && !name.isTextual()) {
            throw ApiException.badRequest("invalid_request", "name", "name must be a string");
        }
        Instant expiresAt = expiry(body);
        IssuedApiKey issued = keys.issue(tenant, role, name == null || name.isNull() ? "" : name.textValue(),
                expiresAt, functions);
        ObjectNode out = render(issued.key());
        // The only time the key is ever shown: Granda keeps its hash.
        out.put("key", issued.token());
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        Responses.json(res, 201, out);
    }

    private void listKeys(Caller caller, ServerRequest req, ServerResponse res) {
        String tenant = ownTenant(caller, req);
        if (keys.tenant(tenant).isEmpty()) {
            throw new io.granda.core.access.TenantNotFoundException("no tenant named '" + tenant + "'");
        }
        ObjectNode body = Json.object();
        ArrayNode items = body.putArray("items");
        keys.keys(tenant).forEach(k -> items.add(render(k)));
        Responses.json(res, 200, body);
    }

    private void revokeKey(Caller caller, ServerRequest req, ServerResponse res) {
        String keyId = req.path().pathParameters().get("keyId");
        // Another tenant's key is not found, as a missing one: key ids tell a tenant nothing about others.
        ApiKey key = keys.key(keyId).filter(k -> caller.actsFor(k.tenant()))
                .orElseThrow(() -> new ApiKeyNotFoundException("no API key '" + keyId + "'"));
        keys.revoke(key.keyId());
        res.status(204).send();
    }

    /**
     * @return the list of functions a key-creation body asks for, {@code null} for none ({@code null} counts as not
     *         given); a 400 naming the field when it is not an array of strings. Whether the names are valid, and
     *         whether the role may have a list, {@link ApiKey#checkFunctions} says.
     */
    private static List<String> functions(ObjectNode body) {
        JsonNode functions = body.get("functions");
        if (functions == null || functions.isNull()) {
            return null;
        }
        if (!functions.isArray()) {
            throw ApiException.badRequest("invalid_request", "functions", "functions must be an array of function "
                    + "names, e.g. [\"resize\", \"thumbnail\"], was " + abbreviate(functions.toString()));
        }
        List<String> names = new ArrayList<>();
        for (JsonNode name : functions) {
            if (!name.isTextual()) {
                throw ApiException.badRequest("invalid_request", "functions", "functions must be an array of "
                        + "function names (strings); functions[" + names.size() + "] is "
                        + abbreviate(name.toString()));
            }
            names.add(name.textValue());
        }
        return names;
    }

    private static String abbreviate(String s) {
        return s.length() <= 70 ? s : s.substring(0, 67) + "...";
    }

    /** @return the expiry a key-creation body asks for, {@code null} for none; a 400 naming the field if invalid */
    private Instant expiry(ObjectNode body) {
        JsonNode days = body.get("expiresInDays");
        JsonNode at = body.get("expiresAt");
        boolean hasDays = days != null && !days.isNull();
        boolean hasAt = at != null && !at.isNull();
        if (hasDays && hasAt) {
            throw ApiException.badRequest("invalid_request", "expiresAt", "give expiresInDays or expiresAt, not both");
        }
        if (hasDays) {
            // 30.0 is a whole number too, as JSON writers may send it; 30.5 and "30" are not.
            if (!days.isNumber() || !days.canConvertToLong() || days.decimalValue().stripTrailingZeros().scale() > 0) {
                throw ApiException.badRequest("invalid_request", "expiresInDays", "expiresInDays must be a whole "
                        + "number of days from 1 to " + ApiKeys.MAX_LIFETIME.toDays() + ", was " + days);
            }
            return keys.expiryInDays(days.longValue());
        }
        if (hasAt) {
            Instant parsed = null;
            if (at.isTextual()) {
                try {
                    parsed = OffsetDateTime.parse(at.textValue(), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
                } catch (DateTimeParseException e) {
                    // answered below
                }
            }
            if (parsed == null) {
                throw ApiException.badRequest("invalid_request", "expiresAt", "expiresAt must be an RFC 3339 time "
                        + "with an offset, e.g. 2027-01-31T00:00:00Z, was " + at);
            }
            return parsed;
        }
        return null;
    }

    /** @return the path's tenant, when the caller may manage its keys (403 for another tenant's, existing or not) */
    private static String ownTenant(Caller caller, ServerRequest req) {
        String tenant = req.path().pathParameters().get("tenant");
        if (!caller.actsFor(tenant)) {
            throw new ApiException(403, "forbidden", null, "a tenant key manages only its own tenant's keys ('"
                    + caller.tenant() + "')");
        }
        return tenant;
    }

    /**
     * Reads a small JSON object with only known fields; an empty body is an empty object unless required.
     */
    private static ObjectNode readObject(ServerRequest req, Set<String> fields, boolean required) {
        byte[] bytes = Bodies.read(req, MAX_BODY_BYTES, "request body");
        if (bytes.length == 0 && !required) {
            return Json.object();
        }
        Bodies.requireContentType(req, "application/json");
        JsonNode body = Json.parse(bytes);
        if (!(body instanceof ObjectNode object)) {
            throw ApiException.badRequest("invalid_request", null, "request body must be a JSON object");
        }
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!fields.contains(field)) {
                throw ApiException.badRequest("invalid_request", field, "unknown field '" + field
                        + "'; known fields are " + String.join(", ", fields.stream().sorted().toList()));
            }
        }
        return object;
    }

    private static ObjectNode render(Tenant t) {
        ObjectNode n = Json.object();
        n.put("id", t.id());
        n.put("createdAt", t.createdAt().toString());
        return n;
    }

    private ObjectNode render(ApiKey k) {
        ObjectNode n = Json.object();
        n.put("keyId", k.keyId());
        n.put("tenant", k.tenant());
        n.put("role", k.role().name().toLowerCase(Locale.ROOT));
        n.put("name", k.name());
        n.put("createdAt", k.createdAt().toString());
        putInstant(n, "revokedAt", k.revokedAt());
        putInstant(n, "expiresAt", k.expiresAt());
        n.put("expired", keys.expired(k));
        putFunctions(n, k.functions());
        return n;
    }

    /** {@code functions}: the names an invoker key is limited to, {@code null} for a key without a list. */
    private static void putFunctions(ObjectNode n, List<String> functions) {
        if (functions == null) {
            n.putNull("functions");
        } else {
            ArrayNode names = n.putArray("functions");
            functions.forEach(names::add);
        }
    }

    private static void putInstant(ObjectNode n, String field, Instant at) {
        if (at == null) {
            n.putNull(field);
        } else {
            n.put(field, at.toString());
        }
    }
}
