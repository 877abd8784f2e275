package io.granda.core.access;

import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.spi.ApiKeyStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Tenants and API keys: makes keys (their secret shown once, only their hash kept), checks the keys callers send,
 * and revokes them. Get it from {@link io.granda.core.Granda#apiKeys()}. Thread-safe.
 *
 * <p><b>Cache.</b> Checking a key must not read the store on every API call, so the stored keys looked up are kept
 * for {@link #CACHE_TTL}, at most {@link #CACHE_MAX_KEYS} of them. Revocation still takes effect at once: a revoke
 * through this object drops the key from the cache after the store has it revoked, and a lookup that raced with it
 * cannot put the old key back (both take {@link #fillLock}). Another process sharing the store (several servers on
 * one database) sees a revocation within {@link #CACHE_TTL}.
 *
 * <p>Keys are never logged; their ids are.
 */
public final class ApiKeys {

    private static final Logger LOG = LoggerFactory.getLogger(ApiKeys.class);
    /** How long a key read from the store is trusted without reading it again. */
    public static final Duration CACHE_TTL = Duration.ofSeconds(10);
    /** Most keys cached; beyond, the cache starts over (a key that misses costs one store read). */
    public static final int CACHE_MAX_KEYS = 10_000;
    private static final int MAX_ID_ATTEMPTS = 5;

    private record Cached(ApiKey key, Instant until) {
    }

    private final ApiKeyStore store;
    private final Clock clock;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
    /** Held while a cache miss reads the store and fills the cache, and while a change empties the cache. */
    private final ReentrantLock fillLock = new ReentrantLock();
    /** Serialises changes, so that two revocations cannot both leave the other admin key the last one. */
    private final ReentrantLock changeLock = new ReentrantLock();

    /**
     * @param store where tenants and keys live
     * @param clock time of creations and revocations, and of the cache's expiry
     */
    public ApiKeys(ApiKeyStore store, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    // ---- tenants ----

    /**
     * @param id the new tenant's id, see {@link Tenant#ID_PATTERN}
     * @return the tenant
     * @throws InvalidFunctionSpecException   (field {@code tenant}) when the id is invalid
     * @throws TenantAlreadyExistsException when it exists
     */
    public Tenant createTenant(String id) {
        Tenant created = store.createTenant(new Tenant(Tenant.checkId(id), now()));
        LOG.atInfo().addKeyValue("tenant", id).log("tenant created");
        return created;
    }

    /** @return every tenant, by id */
    public List<Tenant> tenants() {
        return store.tenants();
    }

    /**
     * @param id a tenant id
     * @return the tenant, empty when there is none
     */
    public Optional<Tenant> tenant(String id) {
        return store.tenant(id);
    }

    // ---- keys ----

    /**
     * Makes a new key. Its {@link IssuedApiKey#token()} is the only copy of the secret: Granda keeps its hash.
     *
     * @param tenant the tenant the key acts for
     * @param role   what it may do
     * @param name   a label, may be empty; at most {@link ApiKey#MAX_NAME_LENGTH} printable characters
     * @return the key with its secret
     * @throws TenantNotFoundException     when the tenant does not exist
     * @throws InvalidFunctionSpecException (field {@code name}) when the name is too long or not printable
     */
    public IssuedApiKey issue(String tenant, Role role, String name) {
        Objects.requireNonNull(role, "role");
        String label = checkName(name);
        if (store.tenant(tenant).isEmpty()) {
            throw new TenantNotFoundException("no tenant named '" + tenant + "'");
        }
        for (int attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
            String keyId = ApiKeyTokens.newKeyId();
            String token = ApiKeyTokens.newToken(keyId);
            ApiKey key = new ApiKey(keyId, tenant, role, label, ApiKeyTokens.hash(token), now(), null);
            if (store.addKey(key)) {
                LOG.atInfo().addKeyValue("keyId", keyId).addKeyValue("tenant", tenant).addKeyValue("role", role)
                        .log("API key issued");
                return new IssuedApiKey(key, token);
            }
        }
        throw new IllegalStateException("could not find a free key id in " + MAX_ID_ATTEMPTS + " attempts");
    }

    /**
     * Installs a key an operator chose (e.g. {@code --admin-key}): adds it, or replaces the stored key of the same
     * id when it differs (another secret, role or tenant, or revoked). The configuration is the source of truth for
     * such a key: a configured key revoked through the API comes back at the next start.
     *
     * @param token  the whole key, {@code gk_<keyId>_<secret>}
     * @param tenant the tenant it acts for
     * @param role   what it may do
     * @param name   its label
     * @return the key as stored
     * @throws IllegalArgumentException when the token does not have the form of a key
     * @throws TenantNotFoundException  when the tenant does not exist
     */
    public ApiKey configure(String token, String tenant, Role role, String name) {
        String keyId = ApiKeyTokens.keyIdOf(token).orElseThrow(() -> new IllegalArgumentException(
                "a configured key must look like gk_<id>_<secret>: an id of 4-32 lowercase letters and digits, a "
                        + "secret of 32-128 letters and digits"));
        String label = checkName(name);
        changeLock.lock();
        try {
            Optional<ApiKey> existing = store.key(keyId);
            if (existing.isPresent() && !existing.get().revoked() && existing.get().role() == role
                    && existing.get().tenant().equals(tenant) && ApiKeyTokens.matches(token, existing.get().secretHash())) {
                return existing.get();
            }
            ApiKey key = new ApiKey(keyId, tenant, role, label, ApiKeyTokens.hash(token),
                    existing.map(ApiKey::createdAt).orElseGet(this::now), null);
            store.putKey(key);
            forget(keyId);
            LOG.atInfo().addKeyValue("keyId", keyId).addKeyValue("tenant", tenant).addKeyValue("role", role)
                    .addKeyValue("replaced", existing.isPresent()).log("configured API key installed");
            return key;
        } finally {
            changeLock.unlock();
        }
    }

    /**
     * Checks a key a caller sent.
     *
     * @param token what the caller sent, e.g. the part of {@code Authorization} after {@code Bearer }
     * @return the stored key when the token is a valid key that is not revoked; else empty
     */
    public Optional<ApiKey> verify(String token) {
        Optional<String> keyId = ApiKeyTokens.keyIdOf(token);
        if (keyId.isEmpty()) {
            return Optional.empty();
        }
        Optional<ApiKey> key = lookup(keyId.get());
        return key.filter(k -> !k.revoked() && ApiKeyTokens.matches(token, k.secretHash()));
    }

    private Optional<ApiKey> lookup(String keyId) {
        Instant now = clock.instant();
        Cached hit = cache.get(keyId);
        if (hit != null && now.isBefore(hit.until())) {
            return Optional.of(hit.key());
        }
        fillLock.lock();
        try {
            Optional<ApiKey> stored = store.key(keyId);
            stored.ifPresent(k -> {
                if (cache.size() >= CACHE_MAX_KEYS) {
                    cache.clear();
                }
                cache.put(keyId, new Cached(k, now.plus(CACHE_TTL)));
            });
            return stored;
        } finally {
            fillLock.unlock();
        }
    }

    /** Drops a key from the cache, after a change to it is in the store. */
    private void forget(String keyId) {
        fillLock.lock();
        try {
            cache.remove(keyId);
        } finally {
            fillLock.unlock();
        }
    }

    /**
     * @param keyId a key id
     * @return the stored key, revoked or not, empty when there is none
     */
    public Optional<ApiKey> key(String keyId) {
        return ApiKeyTokens.KEY_ID.matcher(keyId).matches() ? store.key(keyId) : Optional.empty();
    }

    /**
     * @param tenant a tenant, or {@code null} for every tenant
     * @return the keys, revoked ones too, oldest first
     */
    public List<ApiKey> keys(String tenant) {
        return store.keys(tenant);
    }

    /** @return whether any key was ever made (revoked ones count) */
    public boolean anyKeys() {
        return !store.keys(null).isEmpty();
    }

    /**
     * Revokes a key; from the next call on it is refused. Idempotent.
     *
     * @param keyId a key id
     * @return the key, revoked
     * @throws ApiKeyNotFoundException when there is no such key
     * @throws LastAdminKeyException   when it is the last valid admin key
     */
    public ApiKey revoke(String keyId) {
        changeLock.lock();
        try {
            ApiKey key = key(keyId).orElseThrow(() -> new ApiKeyNotFoundException("no API key '" + keyId + "'"));
            if (key.revoked()) {
                return key;
            }
            if (key.role() == Role.ADMIN && store.keys(null).stream()
                    .noneMatch(k -> k.role() == Role.ADMIN && !k.revoked() && !k.keyId().equals(keyId))) {
                throw new LastAdminKeyException("key '" + keyId + "' is the last valid admin key; issue another "
                        + "admin key first (or restart the server with --admin-key)");
            }
            ApiKey revoked = store.revoke(keyId, now())
                    .orElseThrow(() -> new ApiKeyNotFoundException("no API key '" + keyId + "'"));
            forget(keyId);
            LOG.atInfo().addKeyValue("keyId", keyId).addKeyValue("tenant", key.tenant()).log("API key revoked");
            return revoked;
        } finally {
            changeLock.unlock();
        }
    }

    /** Microseconds, the precision stores keep, so that what a change returns is what later reads return. */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private static String checkName(String name) {
        String n = name == null ? "" : name.strip();
        if (n.length() > ApiKey.MAX_NAME_LENGTH || !n.chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
            throw new InvalidFunctionSpecException("name", "a key's name is at most " + ApiKey.MAX_NAME_LENGTH
                    + " printable characters");
        }
        return n;
    }
}
