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
 * did what stays answerable. A deleted tenant is gone from every method that finds tenants, but its id stays taken:
 * its revoked keys and its usage records still carry it, and a new tenant of that id would inherit them. Keys may
 * expire ({@link ApiKey#expiresAt()}): the store keeps the time, {@link io.granda.core.access.ApiKeys} judges it.
 * An invoker key may carry a list of functions ({@link ApiKey#functions()}): the store keeps it as given, order
 * included, and gives {@code null} back for a key without one.
 * Implementations must be thread-safe; every method may throw {@link StoreException} when
 * the underlying storage fails, and nothing is half-written when it does.
 */
public interface ApiKeyStore {

    /**
     * Adds a tenant.
     *
     * @param tenant the new tenant
     * @return it, as stored
     * @throws TenantAlreadyExistsException when a tenant of that id exists, or existed and was deleted
     */
    Tenant createTenant(Tenant tenant);

    /**
     * @param id a tenant id
     * @return that tenant, empty when there is none (or it was deleted)
     */
    Optional<Tenant> tenant(String id);

    /** @return every tenant that is not deleted, ordered by id */
    List<Tenant> tenants();

    /**
     * Deletes a tenant and revokes every key of it that is not revoked yet, in one step: once this returns no key of
     * the tenant is valid, and if it throws nothing changed. The keys stay, revoked, listed under the tenant's id by
     * {@link #keys(String)}; the id stays taken ({@link #createTenant} of it throws
     * {@link TenantAlreadyExistsException}). Whether the tenant may be deleted (it owns no functions, it is not
     * {@link Tenant#DEFAULT}) is for the caller to decide; the store deletes what it is asked to.
     *
     * @param id a tenant id
     * @param at the time of the deletion, and of the revocations
     * @return the keys revoked now, oldest first (keys revoked before keep their revocation time and are left out)
     * @throws TenantNotFoundException when there is no such tenant, or it is deleted already
     */
    List<ApiKey> deleteTenant(String id, Instant at);

    /**
     * Adds a key.
     *
     * @param key a new key
     * @return true when added; false, and nothing changed, when a key of that id exists already
     * @throws TenantNotFoundException when its tenant does not exist (or was deleted)
     */
    boolean addKey(ApiKey key);

    /**
     * Adds a key or replaces the one of the same id, whatever it was (revoked or not): for keys an operator
     * configures, whose configuration is the source of truth.
     *
     * @param key the key
     * @throws TenantNotFoundException when its tenant does not exist (or was deleted)
     */
    void putKey(ApiKey key);

    /**
     * @param keyId a key id
     * @return that key, revoked, expired or not, empty when there is none
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
