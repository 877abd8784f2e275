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

    // ---- expiry ----

    @Test
    void anExpiringKeyIsValidOneInstantBeforeItsExpiryAndRefusedAtIt() {
        // Sooner than the cache forgets the key, so the cached key must be judged too.
        Instant expiry = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS)
                .plus(ApiKeys.CACHE_TTL.dividedBy(2));
        IssuedApiKey issued = keys.issue(Tenant.DEFAULT, Role.TENANT, "ci", expiry);
        assertEquals(expiry, issued.key().expiresAt());
        assertEquals(expiry, store.key(issued.key().keyId()).orElseThrow().expiresAt());
        assertTrue(keys.verify(issued.token()).isPresent(), "fills the cache");
        int reads = store.keyReads.get();

        clock.set(expiry.minusNanos(1));
        assertEquals(KeyCheck.Result.VALID, keys.check(issued.token()).result(), "one instant before");
        assertFalse(keys.expired(issued.key()));

        clock.set(expiry);
        KeyCheck atExpiry = keys.check(issued.token());
        assertEquals(KeyCheck.Result.EXPIRED, atExpiry.result(), "at the instant of expiry");
        assertEquals(expiry, atExpiry.key().expiresAt());
        assertEquals(Optional.empty(), keys.verify(issued.token()));
        assertTrue(keys.expired(issued.key()));
        assertEquals(reads, store.keyReads.get(), "judged on the cached key: expiry needs no store read");
    }

    @Test
    void aCheckSaysWhyOnlyToTheHolderOfTheSecret() {
        IssuedApiKey expiring = keys.issue(Tenant.DEFAULT, Role.TENANT, "", clock.instant().plusSeconds(60));
        IssuedApiKey revoked = keys.issue(Tenant.DEFAULT, Role.TENANT, "");
        keys.revoke(revoked.key().keyId());
        clock.advance(Duration.ofMinutes(1));

        assertEquals(KeyCheck.Result.EXPIRED, keys.check(expiring.token()).result());
        assertEquals(KeyCheck.Result.REVOKED, keys.check(revoked.token()).result());
        KeyCheck guessed = keys.check(ApiKeyTokens.newToken(expiring.key().keyId()));
        assertEquals(KeyCheck.Result.UNKNOWN, guessed.result(), "right id, wrong secret");
        assertEquals(null, guessed.key(), "tells nothing of the key");
        assertEquals(KeyCheck.Result.UNKNOWN, keys.check(ApiKeyTokens.newToken("unknown1")).result());
        assertEquals(KeyCheck.Result.MALFORMED, keys.check("not-a-key").result());
    }

    @Test
    void anExpiryMustBeInTheFutureAndAtMostTenYearsAhead() {
        Instant now = clock.instant();
        for (Instant bad : List.of(now, now.minusSeconds(1), now.plus(ApiKeys.MAX_LIFETIME).plusSeconds(1),
                Instant.MAX)) {
            InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                    () -> keys.issue(Tenant.DEFAULT, Role.TENANT, "", bad), bad.toString());
            assertEquals("expiresAt", e.field());
        }
        for (long bad : new long[] {0, -1, 3651, Long.MAX_VALUE}) {
            InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                    () -> keys.expiryInDays(bad), Long.toString(bad));
            assertEquals("expiresInDays", e.field());
        }
        assertEquals(List.of(), keys.keys(null), "nothing was made");
        assertEquals(Instant.parse("2026-05-02T12:00:00.123456Z"), keys.expiryInDays(1));
        assertEquals(now.truncatedTo(java.time.temporal.ChronoUnit.MICROS).plus(ApiKeys.MAX_LIFETIME),
                keys.issue(Tenant.DEFAULT, Role.TENANT, "", keys.expiryInDays(3650)).key().expiresAt());
    }

    @Test
    void anExpiredAdminKeyDoesNotCountAsAValidOne() {
        IssuedApiKey lasting = keys.issue(Tenant.DEFAULT, Role.ADMIN, "lasting");
        IssuedApiKey expiring = keys.issue(Tenant.DEFAULT, Role.ADMIN, "expiring", clock.instant().plusSeconds(10));
        clock.advance(Duration.ofSeconds(10));

        assertThrows(LastAdminKeyException.class, () -> keys.revoke(lasting.key().keyId()),
                "the other admin key has expired");
        assertTrue(keys.revoke(expiring.key().keyId()).revoked(), "an expired admin key may be revoked");
    }

    @Test
    void aConfiguredKeyNeverExpiresEvenIfTheStoredOneDid() {
        String configured = "gk_opsadmin_" + "0123456789abcdef".repeat(4);
        ApiKey installed = keys.configure(configured, Tenant.DEFAULT, Role.ADMIN, "configured");
        // As if someone had given the stored key an expiry, and it has passed.
        store.putKey(new ApiKey(installed.keyId(), installed.tenant(), installed.role(), installed.name(),
                installed.secretHash(), installed.createdAt(), null, clock.instant().plusSeconds(1)));
        clock.advance(Duration.ofSeconds(11));
        assertEquals(KeyCheck.Result.EXPIRED, keys.check(configured).result());

        ApiKey reinstalled = keys.configure(configured, Tenant.DEFAULT, Role.ADMIN, "configured");

        assertEquals(null, reinstalled.expiresAt());
        assertTrue(keys.verify(configured).isPresent());
    }

    // ---- tenant deletion ----

    @Test
    void deletingATenantRevokesItsKeysEvenCachedOnes() {
        keys.issue(Tenant.DEFAULT, Role.ADMIN, "ops");
        keys.createTenant("acme");
        IssuedApiKey tenantKey = keys.issue("acme", Role.TENANT, "ci");
        clock.advance(Duration.ofSeconds(1));
        IssuedApiKey adminOfAcme = keys.issue("acme", Role.ADMIN, "acme admin");
        assertTrue(keys.verify(tenantKey.token()).isPresent(), "cached");
        assertTrue(keys.verify(adminOfAcme.token()).isPresent(), "cached");

        List<ApiKey> revoked = keys.deleteTenant("acme");

        assertEquals(List.of(tenantKey.key().keyId(), adminOfAcme.key().keyId()),
                revoked.stream().map(ApiKey::keyId).toList());
        assertEquals(KeyCheck.Result.REVOKED, keys.check(tenantKey.token()).result(), "at once, cache or not");
        assertEquals(KeyCheck.Result.REVOKED, keys.check(adminOfAcme.token()).result());
        assertEquals(Optional.empty(), keys.tenant("acme"));
        assertThrows(TenantNotFoundException.class, () -> keys.deleteTenant("acme"));
        assertThrows(TenantNotFoundException.class, () -> keys.issue("acme", Role.TENANT, ""));
        assertThrows(TenantAlreadyExistsException.class, () -> keys.createTenant("acme"));
    }

    @Test
    void theDefaultTenantAndTheHolderOfTheLastAdminKeysAreNotDeleted() {
        keys.createTenant("acme");
        IssuedApiKey onlyAdmin = keys.issue("acme", Role.ADMIN, "the only admin");
        int writes = store.writes.get();

        assertThrows(ProtectedTenantException.class, () -> keys.deleteTenant(Tenant.DEFAULT));
        assertThrows(LastAdminKeyException.class, () -> keys.deleteTenant("acme"));
        assertThrows(TenantNotFoundException.class, () -> keys.deleteTenant("ghost"));

        assertEquals(writes, store.writes.get(), "nothing changed");
        assertTrue(keys.verify(onlyAdmin.token()).isPresent());
        assertTrue(keys.tenant("acme").isPresent());
        keys.issue(Tenant.DEFAULT, Role.ADMIN, "another admin");
        assertEquals(1, keys.deleteTenant("acme").size(), "with another admin key it may go");
    }

    // ---- invoker keys ----

    @Test
    void anInvokerKeyMayBeLimitedToNamedFunctionsAndACachedKeyKeepsItsList() {
        keys.createTenant("acme");
        List<String> asked = new java.util.ArrayList<>(List.of("thumbnail", "resize"));
        IssuedApiKey scoped = keys.issue("acme", Role.INVOKER, "images", null, asked);
        asked.add("sneaky");
        IssuedApiKey whole = keys.issue("acme", Role.INVOKER, "all of acme", null, null);

        assertEquals(List.of("thumbnail", "resize"), scoped.key().functions(), "as given, and a copy");
        assertEquals(Optional.of(scoped.key()), store.key(scoped.key().keyId()), "stored with its list");
        int before = store.keyReads.get();
        for (int i = 0; i < 10; i++) {
            ApiKey checked = keys.verify(scoped.token()).orElseThrow();
            assertEquals(Role.INVOKER, checked.role());
            assertEquals(List.of("thumbnail", "resize"), checked.functions(), "from the cache too");
            assertTrue(checked.inScope("resize"));
            assertFalse(checked.inScope("sneaky"));
            assertFalse(checked.inScope("thumbnails"));
        }
        assertEquals(before + 1, store.keyReads.get(), "one store read for ten checks");
        ApiKey unscoped = keys.verify(whole.token()).orElseThrow();
        assertEquals(null, unscoped.functions(), "no list: every function of its tenant");
        assertTrue(unscoped.inScope("anything"));
        assertEquals(List.of("thumbnail", "resize"), keys.revoke(scoped.key().keyId()).functions(),
                "revoking keeps the list");
        assertThrows(UnsupportedOperationException.class, () -> scoped.key().functions().add("x"));
    }

    @Test
    void aListOfFunctionsIsCheckedAndABadOneMakesNoKey() {
        keys.createTenant("acme");
        List<String> tooMany = java.util.stream.IntStream.rangeClosed(1, ApiKey.MAX_FUNCTIONS + 1)
                .mapToObj(i -> "fn-" + i).toList();
        java.util.Map<String, Object[]> bad = new java.util.LinkedHashMap<>();
        bad.put("a tenant key", new Object[] {Role.TENANT, List.of("a")});
        bad.put("a reader key", new Object[] {Role.READER, List.of("a")});
        bad.put("an admin key", new Object[] {Role.ADMIN, List.of("a")});
        bad.put("empty", new Object[] {Role.INVOKER, List.of()});
        bad.put("too many", new Object[] {Role.INVOKER, tooMany});
        bad.put("twice", new Object[] {Role.INVOKER, List.of("a", "b", "a")});
        bad.put("upper case", new Object[] {Role.INVOKER, List.of("Resize")});
        bad.put("ends with -", new Object[] {Role.INVOKER, List.of("resize-")});
        bad.put("too long", new Object[] {Role.INVOKER, List.of("a".repeat(64))});
        bad.put("a path", new Object[] {Role.INVOKER, List.of("../a")});
        bad.put("empty name", new Object[] {Role.INVOKER, List.of("")});
        bad.put("null name", new Object[] {Role.INVOKER, java.util.Arrays.asList("a", null)});
        int writes = store.writes.get();
        for (var c : bad.entrySet()) {
            Role role = (Role) c.getValue()[0];
            @SuppressWarnings("unchecked")
            List<String> functions = (List<String>) c.getValue()[1];
            InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                    () -> keys.issue("acme", role, "", null, functions), c.getKey());
            assertEquals("functions", e.field(), c.getKey());
        }
        assertEquals(writes, store.writes.get(), "no key made");
        assertEquals(List.of(), keys.keys("acme"));
        // The bounds themselves are fine: one name, and the most there may be; names need not exist yet.
        assertEquals(List.of("a"), keys.issue("acme", Role.INVOKER, "", null, List.of("a")).key().functions());
        assertEquals(ApiKey.MAX_FUNCTIONS, keys.issue("acme", Role.INVOKER, "", null, tooMany.subList(0,
                ApiKey.MAX_FUNCTIONS)).key().functions().size());
        assertThrows(TenantNotFoundException.class,
                () -> keys.issue("ghost", Role.INVOKER, "", null, List.of("a")));
    }

    @Test
    void aKeyOfAnotherRoleCannotBeMadeWithAListEvenDirectly() {
        String hash = ApiKeyTokens.hash(ApiKeyTokens.newToken("abcd1234"));
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class, () -> new ApiKey(
                "abcd1234", "acme", Role.TENANT, "", hash, Instant.EPOCH, null, null, List.of("a")));
        assertEquals("functions", e.field());
        assertTrue(new ApiKey("abcd1234", "acme", Role.TENANT, "", hash, Instant.EPOCH, null).inScope("any"),
                "no list: nothing left out by it");
        assertTrue(new ApiKey("abcd1234", "acme", Role.INVOKER, "", hash, Instant.EPOCH, null, null, List.of("a"))
                .toString().contains("functions=[a]"));
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

        void set(Instant at) {
            now = at;
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
        public List<ApiKey> deleteTenant(String id, Instant at) {
            writes.incrementAndGet();
            return delegate.deleteTenant(id, at);
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
