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
 * one database) sees a revocation within {@link #CACHE_TTL}. What a cached key may do is the stored key's own: the
 * cache holds the whole {@link ApiKey}, its role and its list of functions ({@link ApiKey#functions()}) included,
 * and neither ever changes once the key is made.
 *
 * <p><b>Expiry.</b> A key may carry an expiry ({@link ApiKey#expiresAt()}); it is judged against the clock at every
 * check, cached or not, so a key stops working at its expiry to the instant. A configured key never expires.
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
    /** Longest a key may be made to live: ten years. Further would be "never" in all but name; say so instead. */
    public static final Duration MAX_LIFETIME = Duration.ofDays(3650);

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

    /**
     * Deletes a tenant and revokes all its keys at once: from the next check on none of them is valid, here and, within
     * {@link #CACHE_TTL}, in other processes sharing the store. Its id is not given out again. Whether it still owns
     * functions is not known here: {@link io.granda.core.Granda#deleteTenant(String)} checks that first.
     *
     * @param id a tenant id
     * @return the keys revoked now
     * @throws TenantNotFoundException   when there is no such tenant
     * @throws ProtectedTenantException  when it is {@link Tenant#DEFAULT}
     * @throws LastAdminKeyException     when it holds the last valid admin keys
     */
    public List<ApiKey> deleteTenant(String id) {
        changeLock.lock();
        try {
            if (Tenant.DEFAULT.equals(id)) {
                throw new ProtectedTenantException("the tenant '" + Tenant.DEFAULT + "' always exists and cannot be "
                        + "deleted: functions deployed without a tenant and the configured admin key belong to it");
            }
            if (store.tenant(id).isEmpty()) {
                throw new TenantNotFoundException("no tenant named '" + id + "'");
            }
            Instant at = now();
            List<ApiKey> all = store.keys(null);
            boolean holdsAdmin = all.stream().anyMatch(k -> k.tenant().equals(id) && isValidAdmin(k, at));
            if (holdsAdmin && all.stream().noneMatch(k -> !k.tenant().equals(id) && isValidAdmin(k, at))) {
                throw new LastAdminKeyException("tenant '" + id + "' holds the last valid admin keys; issue an admin "
                        + "key of another tenant first");
            }
            List<ApiKey> revoked = store.deleteTenant(id, at);
            revoked.forEach(k -> forget(k.keyId()));
            LOG.atInfo().addKeyValue("tenant", id).addKeyValue("keysRevoked", revoked.size()).log("tenant deleted");
            return revoked;
        } finally {
            changeLock.unlock();
        }
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
        return issue(tenant, role, name, null);
    }

    /**
     * Makes a new key that expires; see {@link #issue(String, Role, String)}.
     *
     * @param tenant    the tenant the key acts for
     * @param role      what it may do
     * @param name      a label, may be empty
     * @param expiresAt the first instant the key is refused at, in the future and at most {@link #MAX_LIFETIME}
     *                  ahead (kept to the microsecond); {@code null} for a key that never expires
     * @return the key with its secret
     * @throws TenantNotFoundException      when the tenant does not exist
     * @throws InvalidFunctionSpecException (field {@code name}) when the name is too long or not printable; (field
     *                                      {@code expiresAt}) when the expiry is not in the future or too far ahead
     */
    public IssuedApiKey issue(String tenant, Role role, String name, Instant expiresAt) {
        return issue(tenant, role, name, expiresAt, null);
    }

    /**
     * Makes a new key, an {@link Role#INVOKER} key possibly limited to some functions of its tenant; see
     * {@link #issue(String, Role, String, Instant)}. The names need not be of functions that exist: a function made
     * later under one of them is callable with the key.
     *
     * @param tenant    the tenant the key acts for
     * @param role      what it may do
     * @param name      a label, may be empty
     * @param expiresAt the first instant the key is refused at; {@code null} for a key that never expires
     * @param functions for an invoker key, the only functions of its tenant it may call (see
     *                  {@link ApiKey#functions()}); {@code null} for no such list
     * @return the key with its secret
     * @throws TenantNotFoundException      when the tenant does not exist
     * @throws InvalidFunctionSpecException (field {@code name}, {@code expiresAt} or {@code functions}) when one is
     *                                      not valid; see {@link ApiKey#checkFunctions(Role, List)}
     */
    public IssuedApiKey issue(String tenant, Role role, String name, Instant expiresAt, List<String> functions) {
        Objects.requireNonNull(role, "role");
        String label = checkName(name);
        Instant expiry = expiresAt == null ? null : checkExpiry(expiresAt);
        List<String> callable = ApiKey.checkFunctions(role, functions);
        if (store.tenant(tenant).isEmpty()) {
            throw new TenantNotFoundException("no tenant named '" + tenant + "'");
        }
        for (int attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
            String keyId = ApiKeyTokens.newKeyId();
            String token = ApiKeyTokens.newToken(keyId);
            ApiKey key = new ApiKey(keyId, tenant, role, label, ApiKeyTokens.hash(token), now(), null, expiry,
                    callable);
            if (store.addKey(key)) {
                LOG.atInfo().addKeyValue("keyId", keyId).addKeyValue("tenant", tenant).addKeyValue("role", role)
                        .addKeyValue("expiresAt", expiry).addKeyValue("functions", callable).log("API key issued");
                return new IssuedApiKey(key, token);
            }
        }
        throw new IllegalStateException("could not find a free key id in " + MAX_ID_ATTEMPTS + " attempts");
    }

    /**
     * @param days how many days a new key should live, 1 to {@link #MAX_LIFETIME}
     * @return the instant that many days from now, for {@link #issue(String, Role, String, Instant)}
     * @throws InvalidFunctionSpecException (field {@code expiresInDays}) when out of bounds
     */
    public Instant expiryInDays(long days) {
        if (days < 1 || days > MAX_LIFETIME.toDays()) {
            throw new InvalidFunctionSpecException("expiresInDays", "expiresInDays must be a whole number of days "
                    + "from 1 to " + MAX_LIFETIME.toDays() + ", was " + days);
        }
        return now().plus(Duration.ofDays(days));
    }

    private Instant checkExpiry(Instant expiresAt) {
        Instant now = now();
        Instant at = expiresAt.truncatedTo(ChronoUnit.MICROS);
        if (!at.isAfter(now)) {
            throw new InvalidFunctionSpecException("expiresAt", "expiresAt must be in the future (it is now " + now
                    + "), was " + expiresAt);
        }
        if (at.isAfter(now.plus(MAX_LIFETIME))) {
            throw new InvalidFunctionSpecException("expiresAt", "expiresAt must be at most " + MAX_LIFETIME.toDays()
                    + " days ahead (" + now.plus(MAX_LIFETIME) + "), was " + expiresAt
                    + "; leave it out for a key that never expires");
        }
        return at;
    }

    /**
     * Installs a key an operator chose (e.g. {@code --admin-key}): adds it, or replaces the stored key of the same
     * id when it differs (another secret, role or tenant, revoked, with an expiry or a list of functions). It never
     * expires and has no list of functions. The configuration is the source of truth for
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
            if (existing.isPresent() && !existing.get().revoked() && existing.get().expiresAt() == null
                    && existing.get().functions() == null && existing.get().role() == role
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
     * @return the stored key when the token is a valid key: not revoked, not expired; else empty
     */
    public Optional<ApiKey> verify(String token) {
        return check(token).validKey();
    }

    /**
     * Checks a key a caller sent, and says why it is refused. Expiry is judged against the clock now, also for a key
     * the cache holds.
     *
     * @param token what the caller sent, e.g. the part of {@code Authorization} after {@code Bearer }
     * @return what the check found; the stored key only when the token's secret matched it
     */
    public KeyCheck check(String token) {
        Optional<String> keyId = ApiKeyTokens.keyIdOf(token);
        if (keyId.isEmpty()) {
            return KeyCheck.MALFORMED;
        }
        Optional<ApiKey> found = lookup(keyId.get());
        if (found.isEmpty() || !ApiKeyTokens.matches(token, found.get().secretHash())) {
            return KeyCheck.UNKNOWN;
        }
        ApiKey key = found.get();
        if (key.revoked()) {
            return new KeyCheck(KeyCheck.Result.REVOKED, key);
        }
        if (key.expiredAt(clock.instant())) {
            return new KeyCheck(KeyCheck.Result.EXPIRED, key);
        }
        return new KeyCheck(KeyCheck.Result.VALID, key);
    }

    /** @return whether the key has expired by now */
    public boolean expired(ApiKey key) {
        return key.expiredAt(clock.instant());
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
            Instant at = now();
            if (isValidAdmin(key, at) && store.keys(null).stream()
                    .noneMatch(k -> isValidAdmin(k, at) && !k.keyId().equals(keyId))) {
                throw new LastAdminKeyException("key '" + keyId + "' is the last valid admin key; issue another "
                        + "admin key first (or restart the server with --admin-key)");
            }
            ApiKey revoked = store.revoke(keyId, at)
                    .orElseThrow(() -> new ApiKeyNotFoundException("no API key '" + keyId + "'"));
            forget(keyId);
            LOG.atInfo().addKeyValue("keyId", keyId).addKeyValue("tenant", key.tenant()).log("API key revoked");
            return revoked;
        } finally {
            changeLock.unlock();
        }
    }

    private static boolean isValidAdmin(ApiKey k, Instant at) {
        return k.role() == Role.ADMIN && k.validAt(at);
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
