package io.granda.http.internal;

import io.granda.core.access.Role;
import io.granda.core.access.Tenant;

import java.util.List;
import java.util.Objects;

/**
 * Who is calling, as their API key says: an immutable value. Not API.
 *
 * @param tenant    the tenant the key acts for
 * @param role      what it may do
 * @param keyId     the key's id; {@code null} when keys are not required (everyone is an admin then)
 * @param functions for an invoker key limited to some functions, their names
 *                  ({@link io.granda.core.access.ApiKey#functions()}); {@code null} for no such list
 */
public record Caller(String tenant, Role role, String keyId, List<String> functions) {

    /** Who calls when keys are not required: an admin of the default tenant. */
    public static final Caller UNAUTHENTICATED_ADMIN = new Caller(Tenant.DEFAULT, Role.ADMIN, null);

    public Caller {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(role, "role");
        functions = functions == null ? null : List.copyOf(functions);
    }

    /** A caller whose key has no list of functions. */
    public Caller(String tenant, Role role, String keyId) {
        this(tenant, role, keyId, null);
    }

    /**
     * @param functionName a function's name
     * @return whether the key's list of functions lets it call that function: true when it has no list. Says
     *         nothing of the tenant or role, which are checked apart.
     */
    public boolean inScope(String functionName) {
        return functions == null || functions.contains(functionName);
    }

    /** @return whether the key is an admin key */
    public boolean admin() {
        return role == Role.ADMIN;
    }

    /**
     * The tenant whose functions and usage this caller acts on: every tenant (null) or the one asked for, for an
     * admin; its own tenant for a tenant key.
     *
     * @param asked the tenant named in the request ({@code ?tenant=}), or {@code null}
     * @return the tenant to restrict to, or {@code null} for every tenant
     * @throws ApiException 403 when a tenant key names another tenant
     */
    public String scope(String asked) {
        if (admin()) {
            return asked;
        }
        if (asked != null && !asked.equals(tenant)) {
            throw new ApiException(403, "forbidden", "tenant",
                    "a tenant key sees only its own tenant ('" + tenant + "'); only an admin key may name another");
        }
        return tenant;
    }

    /** @return the tenant to restrict to: {@code null} (every tenant) for an admin, else its own */
    public String scope() {
        return scope(null);
    }

    /**
     * @param tenant a tenant
     * @return whether this caller may act for that tenant (its own, or any for an admin)
     */
    public boolean actsFor(String tenant) {
        return admin() || this.tenant.equals(tenant);
    }
}
