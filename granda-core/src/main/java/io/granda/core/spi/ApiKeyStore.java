package io.granda.core.spi;

import io.granda.core.StoreException;
import io.granda.core.access.ApiKey;
import io.granda.core.access.Tenant;
import io.granda.core.access.TenantAlreadyExistsException;
import io.granda.core.access.TenantNotFoundException;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where tenants and their API keys live. Keys are kept as their hash ({@link ApiKey#secretHash()}); a store never
 * sees a key itself. {@link io.granda.core.access.ApiKeys} is what uses it: it makes, checks, caches and revokes keys.
 *
 * <p>A new store already holds the tenant {@link Tenant#DEFAULT}. Keys are never deleted, only revoked, so that who
 * did what stays answerable. Implementations must be thread-safe; every method may throw {@link StoreException} when
 * the underlying storage fails, and nothing is half-written when it does.
 */
public interface ApiKeyStore {

    /**
     * Adds a tenant.
     *
     * @param tenant the new tenant
     * @return it, as stored
     * @throws TenantAlreadyExistsException when a tenant of that id exists
     */
    Tenant createTenant(Tenant tenant);

    /**
     * @param id a tenant id
     * @return that tenant, empty when there is none
     */
    Optional<Tenant> tenant(String id);

    /** @return every tenant, ordered by id */
    List<Tenant> tenants();

    /**
     * Adds a key.
     *
     * @param key a new key
     * @return true when added; false, and nothing changed, when a key of that id exists already
     * @throws TenantNotFoundException when its tenant does not exist
     */
    boolean addKey(ApiKey key);

    /**
     * Adds a key or replaces the one of the same id, whatever it was (revoked or not): for keys an operator
     * configures, whose configuration is the source of truth.
     *
     * @param key the key
     * @throws TenantNotFoundException when its tenant does not exist
     */
    void putKey(ApiKey key);

    /**
     * @param keyId a key id
     * @return that key, revoked or not, empty when there is none
     */
    Optional<ApiKey> key(String keyId);

    /**
     * @param tenant a tenant id, or {@code null} for every tenant
     * @return the keys, revoked ones too, oldest first (by creation, then id)
     */
    List<ApiKey> keys(String tenant);

    /**
     * Revokes a key. Idempotent: a key revoked already keeps its first revocation time.
     *
     * @param keyId a key id
     * @param at    the revocation time
     * @return the key as it is now, empty when there is no such key
     */
    Optional<ApiKey> revoke(String keyId, Instant at);
}
