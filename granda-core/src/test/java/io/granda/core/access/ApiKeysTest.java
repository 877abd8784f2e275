package io.granda.core.access;

import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.memory.InMemoryApiKeyStore;
import io.granda.core.spi.ApiKeyStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Making, checking, caching and revoking keys. */
class ApiKeysTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T12:00:00.123456789Z"));
    private final CountingStore store = new CountingStore(new InMemoryApiKeyStore(clock));
    private final ApiKeys keys = new ApiKeys(store, clock);

    @Test
    void anIssuedKeyVerifiesAndOnlyItsHashIsStored() {
        keys.createTenant("acme");
        IssuedApiKey issued = keys.issue("acme", Role.TENANT, "ci");

        ApiKey stored = store.key(issued.key().keyId()).orElseThrow();
        assertEquals(ApiKeyTokens.hash(issued.token()), stored.secretHash());
        assertFalse(stored.toString().contains(issued.token()));
        assertEquals("acme", stored.tenant());
        assertEquals(Role.TENANT, stored.role());
        assertEquals("ci", stored.name());
        assertEquals(Instant.parse("2026-05-01T12:00:00.123456Z"), stored.createdAt(), "kept to the microsecond");
        assertEquals(Optional.of(stored), keys.verify(issued.token()));
    }

    @Test
    void aWrongOrMalformedKeyIsRefused() {
        IssuedApiKey issued = keys.issue(Tenant.DEFAULT, Role.ADMIN, "");
        String token = issued.token();
        char last = token.charAt(token.length() - 1);
        String oneCharOff = token.substring(0, token.length() - 1) + (last == 'a' ? 'b' : 'a');

        assertEquals(Optional.empty(), keys.verify(oneCharOff));
        assertEquals(Optional.empty(), keys.verify(ApiKeyTokens.newToken(issued.key().keyId())), "right id, other secret");
        assertEquals(Optional.empty(), keys.verify(ApiKeyTokens.newToken("unknown1")));
        assertEquals(Optional.empty(), keys.verify("Bearer " + token));
        assertEquals(Optional.empty(), keys.verify(""));
        assertEquals(Optional.empty(), keys.verify(null));
    }

    @Test
    void checksAreCachedButARevocationCountsAtTheVeryNextCheck() {
        keys.issue(Tenant.DEFAULT, Role.ADMIN, "spare");
        IssuedApiKey issued = keys.issue(Tenant.DEFAULT, Role.ADMIN, "ops");
        int before = store.keyReads.get();
        for (int i = 0; i < 100; i++) {
            assertTrue(keys.verify(issued.token()).isPresent());
        }
        assertEquals(before + 1, store.keyReads.get(), "one store read for 100 checks");

        keys.revoke(issued.key().keyId());

        assertEquals(Optional.empty(), keys.verify(issued.token()));
        assertTrue(store.key(issued.key().keyId()).orElseThrow().revoked());
    }

    @Test
    void theCacheExpiresSoAnotherProcesssRevocationIsSeen() {
        keys.issue(Tenant.DEFAULT, Role.ADMIN, "spare");
        IssuedApiKey issued = keys.issue(Tenant.DEFAULT, Role.ADMIN, "ops");
        assertTrue(keys.verify(issued.token()).isPresent());
        // Revoked behind this object's back, as another server sharing the database would.
        store.revoke(issued.key().keyId(), clock.instant());
        assertTrue(keys.verify(issued.token()).isPresent(), "still cached");

        clock.advance(ApiKeys.CACHE_TTL);

        assertEquals(Optional.empty(), keys.verify(issued.token()));
    }

    @Test
    void theLastValidAdminKeyCannotBeRevoked() {
        IssuedApiKey first = keys.issue(Tenant.DEFAULT, Role.ADMIN, "first");
        IssuedApiKey second = keys.issue(Tenant.DEFAULT, Role.ADMIN, "second");
        keys.issue(Tenant.DEFAULT, Role.TENANT, "not an admin");
        keys.revoke(first.key().keyId());

        assertThrows(LastAdminKeyException.class, () -> keys.revoke(second.key().keyId()));

        assertTrue(keys.verify(second.token()).isPresent());
        assertTrue(keys.revoke(first.key().keyId()).revoked(), "revoking twice is harmless");
        assertThrows(ApiKeyNotFoundException.class, () -> keys.revoke("nokey123"));
    }

    @Test
    void aConfiguredKeyIsInstalledOnceAndReplacedWhenItChanges() {
        String configured = "gk_opsadmin_" + "0123456789abcdef".repeat(4);
        ApiKey installed = keys.configure(configured, Tenant.DEFAULT, Role.ADMIN, "configured");
        assertEquals("opsadmin", installed.keyId());
        assertTrue(keys.verify(configured).isPresent());
        int writes = store.writes.get();

        assertEquals(installed, keys.configure(configured, Tenant.DEFAULT, Role.ADMIN, "configured"));
        assertEquals(writes, store.writes.get(), "the same key again writes nothing");

        keys.issue(Tenant.DEFAULT, Role.ADMIN, "other");
        keys.revoke("opsadmin");
        assertEquals(Optional.empty(), keys.verify(configured));
        String rotated = "gk_opsadmin_" + "fedcba9876543210".repeat(4);
        keys.configure(rotated, Tenant.DEFAULT, Role.ADMIN, "configured");

        assertTrue(keys.verify(rotated).isPresent(), "the new secret works at once");
        assertEquals(Optional.empty(), keys.verify(configured), "the old one not at all");
        assertThrows(IllegalArgumentException.class,
                () -> keys.configure("not-a-key", Tenant.DEFAULT, Role.ADMIN, "x"));
    }

    @Test
    void keysNeedAnExistingTenantAndASaneName() {
        assertThrows(TenantNotFoundException.class, () -> keys.issue("ghost", Role.TENANT, ""));
        assertThrows(InvalidFunctionSpecException.class, () -> keys.issue(Tenant.DEFAULT, Role.TENANT, "x".repeat(101)));
        assertThrows(InvalidFunctionSpecException.class, () -> keys.issue(Tenant.DEFAULT, Role.TENANT, "a\nb"));
        assertThrows(InvalidFunctionSpecException.class, () -> keys.createTenant("Not Valid"));
        assertThrows(TenantAlreadyExistsException.class, () -> keys.createTenant(Tenant.DEFAULT));
        assertEquals(List.of(), keys.keys(null));
        assertFalse(keys.anyKeys());
    }

    @Test
    void tenantsAreListed() {
        keys.createTenant("zeta");
        clock.advance(Duration.ofSeconds(1));
        keys.createTenant("acme");
        assertEquals(List.of("acme", "default", "zeta"), keys.tenants().stream().map(Tenant::id).toList());
    }

    /** A clock that only moves when the test says so. */
    private static final class MutableClock extends java.time.Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            now = start;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** Counts reads of single keys and writes, around a real store. */
    private static final class CountingStore implements ApiKeyStore {
        final ApiKeyStore delegate;
        final AtomicInteger keyReads = new AtomicInteger();
        final AtomicInteger writes = new AtomicInteger();

        CountingStore(ApiKeyStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public Tenant createTenant(Tenant tenant) {
            writes.incrementAndGet();
            return delegate.createTenant(tenant);
        }

        @Override
        public Optional<Tenant> tenant(String id) {
            return delegate.tenant(id);
        }

        @Override
        public List<Tenant> tenants() {
            return delegate.tenants();
        }

        @Override
        public boolean addKey(ApiKey key) {
            writes.incrementAndGet();
            return delegate.addKey(key);
        }

        @Override
        public void putKey(ApiKey key) {
            writes.incrementAndGet();
            delegate.putKey(key);
        }

        @Override
        public Optional<ApiKey> key(String keyId) {
            keyReads.incrementAndGet();
            return delegate.key(keyId);
        }

        @Override
        public List<ApiKey> keys(String tenant) {
            return delegate.keys(tenant);
        }

        @Override
        public Optional<ApiKey> revoke(String keyId, Instant at) {
            writes.incrementAndGet();
            return delegate.revoke(keyId, at);
        }
    }
}
