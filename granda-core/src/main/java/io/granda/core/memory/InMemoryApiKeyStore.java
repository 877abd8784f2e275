package io.granda.core.memory;

import io.granda.core.access.ApiKey;
import io.granda.core.access.Tenant;
import io.granda.core.access.TenantAlreadyExistsException;
import io.granda.core.access.TenantNotFoundException;
import io.granda.core.spi.ApiKeyStore;

import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An {@link ApiKeyStore} held in memory: for embedding Granda and for tests. Nothing survives the process.
 * Thread-safe.
 */
public final class InMemoryApiKeyStore implements ApiKeyStore {

    private final ReentrantLock lock = new ReentrantLock();
    private final TreeMap<String, Tenant> tenants = new TreeMap<>();
    private final Map<String, ApiKey> keys = new LinkedHashMap<>();
    /** Deleted tenants' ids, with when: they stay taken. */
    private final Map<String, Instant> deletedTenants = new java.util.HashMap<>();

    /** A store on the system clock, holding the tenant {@link Tenant#DEFAULT}. */
    public InMemoryApiKeyStore() {
        this(Clock.systemUTC());
    }

    /** @param clock gives the creation time of the tenant {@link Tenant#DEFAULT} */
    public InMemoryApiKeyStore(Clock clock) {
        tenants.put(Tenant.DEFAULT, new Tenant(Tenant.DEFAULT, clock.instant()));
    }

    @Override
    public Tenant createTenant(Tenant tenant) {
        lock.lock();
        try {
            if (tenants.containsKey(tenant.id())) {
                throw new TenantAlreadyExistsException("a tenant named '" + tenant.id() + "' already exists");
            }
            Instant deleted = deletedTenants.get(tenant.id());
            if (deleted != null) {
                throw TenantAlreadyExistsException.deleted(tenant.id(), deleted);
            }
            tenants.put(tenant.id(), tenant);
            return tenant;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<Tenant> tenant(String id) {
        lock.lock();
        try {
            return Optional.ofNullable(tenants.get(id));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Tenant> tenants() {
        lock.lock();
        try {
            return List.copyOf(tenants.values());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<ApiKey> deleteTenant(String id, Instant at) {
        lock.lock();
        try {
            requireTenant(id);
            tenants.remove(id);
            deletedTenants.put(id, at);
            List<ApiKey> revoked = new java.util.ArrayList<>();
            keys.replaceAll((keyId, k) -> {
                if (k.tenant().equals(id) && !k.revoked()) {
                    ApiKey r = k.revokedAt(at);
                    revoked.add(r);
                    return r;
                }
                return k;
            });
            revoked.sort(Comparator.comparing(ApiKey::createdAt).thenComparing(ApiKey::keyId));
            return List.copyOf(revoked);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean addKey(ApiKey key) {
        lock.lock();
        try {
            requireTenant(key.tenant());
            return keys.putIfAbsent(key.keyId(), key) == null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void putKey(ApiKey key) {
        lock.lock();
        try {
            requireTenant(key.tenant());
            keys.put(key.keyId(), key);
        } finally {
            lock.unlock();
        }
    }

    private void requireTenant(String id) {
        if (!tenants.containsKey(id)) {
            throw new TenantNotFoundException("no tenant named '" + id + "'");
        }
    }

    @Override
    public Optional<ApiKey> key(String keyId) {
        lock.lock();
        try {
            return Optional.ofNullable(keys.get(keyId));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<ApiKey> keys(String tenant) {
        lock.lock();
        try {
            return keys.values().stream().filter(k -> tenant == null || k.tenant().equals(tenant))
                    .sorted(Comparator.comparing(ApiKey::createdAt).thenComparing(ApiKey::keyId))
                    .toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<ApiKey> revoke(String keyId, Instant at) {
        lock.lock();
        try {
            return Optional.ofNullable(keys.computeIfPresent(keyId, (id, k) -> k.revokedAt(at)));
        } finally {
            lock.unlock();
        }
    }
}
