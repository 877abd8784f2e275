package io.granda.store;

import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.StoreException;
import io.granda.core.access.ApiKey;
import io.granda.core.access.Role;
import io.granda.core.access.Tenant;
import io.granda.core.access.TenantAlreadyExistsException;
import io.granda.core.access.TenantNotFoundException;
import io.granda.core.spi.ApiKeyStore;
import org.jdbi.v3.core.Handle;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@link ApiKeyStore} of a {@link SqliteStore}: tenants and the hashes of their API keys, in the store's SQLite
 * file. Get it from {@link SqliteStore#apiKeys()}. Thread-safe. Instants are kept to the microsecond, like every
 * instant of the store. An invoker key's list of functions is kept as a JSON array of strings (schema version 11).
 */
public final class SqliteApiKeyStore implements ApiKeyStore {

    private static final String KEY_COLUMNS =
            "key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us, expires_at_us, functions";
    private static final String KEY_VALUES =
            ":id, :tenant, :role, :name, :hash, :created, :revoked, :expires, :functions";
    /** One element of a stored list of functions: a JSON string without escapes, as function names need none. */
    private static final Pattern JSON_NAME = Pattern.compile("\\s*\"([^\"\\\\]*)\"\\s*");

    private final SqliteStore store;

    SqliteApiKeyStore(SqliteStore store) {
        this.store = store;
    }

    @Override
    public Tenant createTenant(Tenant tenant) {
        Objects.requireNonNull(tenant, "tenant");
        Tenant stored = new Tenant(tenant.id(), EpochMicros.truncate(tenant.createdAt()));
        return store.write("create tenant " + tenant.id(), h -> {
            // The writer transaction is IMMEDIATE: nobody can create the id between this check and the insert.
            // A deleted tenant's row stays, so its id is taken too.
            record Row(Instant deletedAt) {
            }
            Optional<Row> row = h.createQuery("SELECT deleted_at_us FROM tenants WHERE id = :id")
                    .bind("id", tenant.id()).map((rs, ctx) -> {
                        long at = rs.getLong(1);
                        return new Row(rs.wasNull() ? null : EpochMicros.toInstant(at));
                    }).findOne();
            if (row.isPresent()) {
                throw row.get().deletedAt() == null
                        ? new TenantAlreadyExistsException("a tenant named '" + tenant.id() + "' already exists")
                        : TenantAlreadyExistsException.deleted(tenant.id(), row.get().deletedAt());
            }
            h.createUpdate("INSERT INTO tenants (id, created_at_us) VALUES (:id, :at)")
                    .bind("id", stored.id()).bind("at", EpochMicros.of(stored.createdAt())).execute();
            return stored;
        });
    }

    @Override
    public Optional<Tenant> tenant(String id) {
        return store.read("find tenant " + id, h -> findTenant(h, id));
    }

    @Override
    public List<Tenant> tenants() {
        return store.read("list tenants", h -> h.createQuery("SELECT id, created_at_us FROM tenants "
                        + "WHERE deleted_at_us IS NULL ORDER BY id")
                .map((rs, ctx) -> tenantOf(rs)).list());
    }

    @Override
    public List<ApiKey> deleteTenant(String id, Instant at) {
        long atMicros = EpochMicros.of(at);
        return store.write("delete tenant " + id, h -> {
            requireTenant(h, id);
            // The keys about to be revoked, read in the same IMMEDIATE transaction: nobody adds or revokes between.
            List<String> revoking = h.createQuery("SELECT key_id FROM api_keys WHERE tenant = :tenant "
                            + "AND revoked_at_us IS NULL ORDER BY created_at_us, key_id")
                    .bind("tenant", id).mapTo(String.class).list();
            h.createUpdate("UPDATE api_keys SET revoked_at_us = :at WHERE tenant = :tenant AND revoked_at_us IS NULL")
                    .bind("at", atMicros).bind("tenant", id).execute();
            h.createUpdate("UPDATE tenants SET deleted_at_us = :at WHERE id = :id")
                    .bind("at", atMicros).bind("id", id).execute();
            List<ApiKey> revoked = new java.util.ArrayList<>();
            for (String keyId : revoking) {
                revoked.add(h.createQuery("SELECT " + KEY_COLUMNS + " FROM api_keys WHERE key_id = :id")
                        .bind("id", keyId).map((rs, ctx) -> keyOf(rs)).one());
            }
            return List.copyOf(revoked);
        });
    }

    @Override
    public boolean addKey(ApiKey key) {
        Objects.requireNonNull(key, "key");
        return store.write("add API key " + key.keyId(), h -> {
            requireTenant(h, key.tenant());
            int added = h.createUpdate("INSERT INTO api_keys (" + KEY_COLUMNS + ") VALUES (" + KEY_VALUES
                            + ") ON CONFLICT (key_id) DO NOTHING")
                    .bindMap(bindings(key)).execute();
            return added == 1;
        });
    }

    @Override
    public void putKey(ApiKey key) {
        Objects.requireNonNull(key, "key");
        store.write("put API key " + key.keyId(), h -> {
            requireTenant(h, key.tenant());
            return h.createUpdate("INSERT OR REPLACE INTO api_keys (" + KEY_COLUMNS + ") VALUES (" + KEY_VALUES + ")")
                    .bindMap(bindings(key)).execute();
        });
    }

    @Override
    public Optional<ApiKey> key(String keyId) {
        return store.read("find API key " + keyId, h -> h.createQuery("SELECT " + KEY_COLUMNS
                        + " FROM api_keys WHERE key_id = :id")
                .bind("id", keyId).map((rs, ctx) -> keyOf(rs)).findOne());
    }

    @Override
    public List<ApiKey> keys(String tenant) {
        return store.read("list API keys", h -> {
            var query = h.createQuery("SELECT " + KEY_COLUMNS + " FROM api_keys"
                    + (tenant == null ? "" : " WHERE tenant = :tenant") + " ORDER BY created_at_us, key_id");
            if (tenant != null) {
                query.bind("tenant", tenant);
            }
            return query.map((rs, ctx) -> keyOf(rs)).list();
        });
    }

    @Override
    public Optional<ApiKey> revoke(String keyId, Instant at) {
        return store.write("revoke API key " + keyId, h -> {
            // COALESCE keeps the first revocation time of a key revoked twice.
            h.createUpdate("UPDATE api_keys SET revoked_at_us = COALESCE(revoked_at_us, :at) WHERE key_id = :id")
                    .bind("at", EpochMicros.of(at)).bind("id", keyId).execute();
            return h.createQuery("SELECT " + KEY_COLUMNS + " FROM api_keys WHERE key_id = :id")
                    .bind("id", keyId).map((rs, ctx) -> keyOf(rs)).findOne();
        });
    }

    @Override
    public String toString() {
        return "SqliteApiKeyStore[" + store.path() + "]";
    }

    private static Optional<Tenant> findTenant(Handle h, String id) {
        return h.createQuery("SELECT id, created_at_us FROM tenants WHERE id = :id AND deleted_at_us IS NULL")
                .bind("id", id)
                .map((rs, ctx) -> tenantOf(rs)).findOne();
    }

    private static void requireTenant(Handle h, String id) {
        if (findTenant(h, id).isEmpty()) {
            throw new TenantNotFoundException("no tenant named '" + id + "'");
        }
    }

    private static java.util.Map<String, Object> bindings(ApiKey k) {
        java.util.Map<String, Object> m = new java.util.HashMap<>();
        m.put("id", k.keyId());
        m.put("tenant", k.tenant());
        m.put("role", k.role().name());
        m.put("name", k.name());
        m.put("hash", k.secretHash());
        m.put("created", EpochMicros.of(k.createdAt()));
        m.put("revoked", k.revokedAt() == null ? null : EpochMicros.of(k.revokedAt()));
        m.put("expires", k.expiresAt() == null ? null : EpochMicros.of(k.expiresAt()));
        m.put("functions", k.functions() == null ? null : functionsJson(k.functions()));
        return m;
    }

    /**
     * @return the names as a JSON array; written by hand, as function names ({@link ApiKey#checkFunctions}) are
     *         lowercase letters, digits and '-' and need no escaping
     */
    private static String functionsJson(List<String> names) {
        StringBuilder json = new StringBuilder("[");
        for (String name : names) {
            json.append(json.length() == 1 ? "" : ",").append('"').append(name).append('"');
        }
        return json.append(']').toString();
    }

    /**
     * @return the names of a stored JSON array of function names, in order
     * @throws StoreException when it is not such an array
     */
    private static List<String> functionsOf(String json, String keyId) {
        String body = json.strip();
        List<String> names = new ArrayList<>();
        if (body.length() >= 2 && body.charAt(0) == '[' && body.charAt(body.length() - 1) == ']') {
            for (String element : body.substring(1, body.length() - 1).split(",", -1)) {
                Matcher m = JSON_NAME.matcher(element);
                if (!m.matches()) {
                    names = null;
                    break;
                }
                names.add(m.group(1));
            }
        } else {
            names = null;
        }
        if (names == null) {
            throw new StoreException("API key " + keyId + " has a list of functions this Granda cannot read: "
                    + (json.length() > 200 ? json.substring(0, 200) + "..." : json));
        }
        return names;
    }

    private static Tenant tenantOf(ResultSet rs) throws SQLException {
        return new Tenant(rs.getString("id"), EpochMicros.toInstant(rs.getLong("created_at_us")));
    }

    private static ApiKey keyOf(ResultSet rs) throws SQLException {
        Role role;
        try {
            role = Role.valueOf(rs.getString("role"));
        } catch (IllegalArgumentException e) {
            throw new StoreException("API key " + rs.getString("key_id") + " has role '" + rs.getString("role")
                    + "', which this Granda does not know");
        }
        long revoked = rs.getLong("revoked_at_us");
        Instant revokedAt = rs.wasNull() ? null : EpochMicros.toInstant(revoked);
        long expires = rs.getLong("expires_at_us");
        Instant expiresAt = rs.wasNull() ? null : EpochMicros.toInstant(expires);
        String keyId = rs.getString("key_id");
        String functionsJson = rs.getString("functions");
        List<String> functions = functionsJson == null ? null : functionsOf(functionsJson, keyId);
        try {
            return new ApiKey(keyId, rs.getString("tenant"), role, rs.getString("name"),
                    rs.getString("secret_sha256"), EpochMicros.toInstant(rs.getLong("created_at_us")), revokedAt,
                    expiresAt, functions);
        } catch (InvalidFunctionSpecException e) {
            // Not the caller's bad input but a row this Granda did not write: a store failure, not a 400.
            throw new StoreException("API key " + keyId + " as stored is not valid: " + e.getMessage(), e);
        }
    }
}
