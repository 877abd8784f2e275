package io.granda.testkit;

import io.granda.core.access.ApiKey;
import io.granda.core.access.ApiKeyTokens;
import io.granda.core.access.Role;
import io.granda.core.access.Tenant;
import io.granda.core.access.TenantAlreadyExistsException;
import io.granda.core.access.TenantNotFoundException;
import io.granda.core.spi.ApiKeyStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compatibility suite every {@link ApiKeyStore} must pass. An implementation's test extends this class and
 * supplies a fresh store per test from {@link #createStore(FakeClock)}, holding only the tenant
 * {@link Tenant#DEFAULT}. Instants must come back to the microsecond (the suite's times have microseconds, none
 * finer). A store that is {@link AutoCloseable} is closed after each test.
 *
 * <pre>{@code
 * class MyApiKeyStoreTest extends ApiKeyStoreContract {
 *     protected ApiKeyStore createStore(FakeClock clock) {
 *         return new MyApiKeyStore(clock);
 *     }
 * }
 * }</pre>
 */
public abstract class ApiKeyStoreContract {

    /** The time the suite starts at, with microseconds so that a store that drops them is caught. */
    protected static final Instant START = Instant.parse("2026-04-01T09:30:00.654321Z");

    /** The clock handed to the store; tests move it. */
    protected final FakeClock clock = new FakeClock(START);

    private ApiKeyStore store;

    /**
     * @param clock the time source the store may use (for the creation of the tenant {@link Tenant#DEFAULT})
     * @return a new store holding the tenant {@link Tenant#DEFAULT} and nothing else
     */
    protected abstract ApiKeyStore createStore(FakeClock clock);

    /** @return the store under test */
    protected final ApiKeyStore store() {
        return store;
    }

    @BeforeEach
    void createStoreUnderTest() {
        store = createStore(clock);
    }

    @AfterEach
    void closeStoreUnderTest() throws Exception {
        if (store instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    // ---- tenants ----

    @Test
    void aNewStoreHoldsTheDefaultTenantAndNoKeys() {
        assertEquals(List.of(Tenant.DEFAULT), store.tenants().stream().map(Tenant::id).toList());
        assertTrue(store.tenant(Tenant.DEFAULT).isPresent());
        assertEquals(List.of(), store.keys(null));
        assertEquals(List.of(), store.keys(Tenant.DEFAULT));
    }

    @Test
    void tenantsAreCreatedOnceAndListedById() {
        Tenant zeta = store.createTenant(new Tenant("zeta", START));
        Tenant acme = store.createTenant(new Tenant("acme", START.plusSeconds(1)));

        assertEquals(zeta, store.tenant("zeta").orElseThrow());
        assertEquals(List.of("acme", "default", "zeta"), store.tenants().stream().map(Tenant::id).toList());
        assertEquals(acme, store.tenants().getFirst());
        assertThrows(TenantAlreadyExistsException.class, () -> store.createTenant(new Tenant("acme", START)));
        assertThrows(TenantAlreadyExistsException.class, () -> store.createTenant(new Tenant(Tenant.DEFAULT, START)));
        assertEquals(acme, store.tenant("acme").orElseThrow(), "a refused create changes nothing");
        assertEquals(Optional.empty(), store.tenant("nobody"));
    }

    // ---- keys ----

    @Test
    void aKeyRoundTripsExactlyWithItsHashOnly() {
        store.createTenant(new Tenant("acme", START));
        String token = ApiKeyTokens.newToken("k1abcd");
        ApiKey key = new ApiKey("k1abcd", "acme", Role.TENANT, "ci — deploys", ApiKeyTokens.hash(token), START, null);

        assertTrue(store.addKey(key));

        assertEquals(Optional.of(key), store.key("k1abcd"));
        assertEquals(List.of(key), store.keys("acme"));
        assertEquals(List.of(key), store.keys(null));
        assertEquals(List.of(), store.keys(Tenant.DEFAULT));
        assertTrue(ApiKeyTokens.matches(token, store.key("k1abcd").orElseThrow().secretHash()));
        assertEquals(Optional.empty(), store.key("nokey1"));
    }

    @Test
    void addingATakenIdChangesNothing() {
        ApiKey first = key("dup1", Tenant.DEFAULT, Role.ADMIN, START);
        ApiKey second = key("dup1", Tenant.DEFAULT, Role.TENANT, START.plusSeconds(5));
        assertTrue(store.addKey(first));

        assertFalse(store.addKey(second));

        assertEquals(Optional.of(first), store.key("dup1"));
        assertEquals(1, store.keys(null).size());
    }

    @Test
    void aKeyNeedsAnExistingTenant() {
        assertThrows(TenantNotFoundException.class, () -> store.addKey(key("orphan1", "ghost", Role.TENANT, START)));
        assertThrows(TenantNotFoundException.class, () -> store.putKey(key("orphan2", "ghost", Role.TENANT, START)));
        assertEquals(List.of(), store.keys(null));
    }

    @Test
    void putReplacesAKeyWhateverItWas() {
        ApiKey old = key("conf1", Tenant.DEFAULT, Role.TENANT, START);
        store.addKey(old);
        store.revoke("conf1", START.plusSeconds(1));
        ApiKey replacement = new ApiKey("conf1", Tenant.DEFAULT, Role.ADMIN, "configured",
                ApiKeyTokens.hash(ApiKeyTokens.newToken("conf1")), START, null);

        store.putKey(replacement);

        assertEquals(Optional.of(replacement), store.key("conf1"));
        store.putKey(key("conf2", Tenant.DEFAULT, Role.ADMIN, START.plusSeconds(2)));
        assertEquals(List.of("conf1", "conf2"), store.keys(null).stream().map(ApiKey::keyId).toList());
    }

    @Test
    void keysAreListedOldestFirstPerTenant() {
        store.createTenant(new Tenant("acme", START));
        store.createTenant(new Tenant("globex", START));
        store.addKey(key("bbbb2", "acme", Role.TENANT, START.plusSeconds(2)));
        store.addKey(key("aaaa3", "globex", Role.TENANT, START.plusSeconds(3)));
        store.addKey(key("cccc1", "acme", Role.TENANT, START.plusSeconds(1)));
        store.addKey(key("aaaa1", "acme", Role.ADMIN, START.plusSeconds(1)));

        assertEquals(List.of("aaaa1", "cccc1", "bbbb2"), store.keys("acme").stream().map(ApiKey::keyId).toList());
        assertEquals(List.of("aaaa3"), store.keys("globex").stream().map(ApiKey::keyId).toList());
        assertEquals(List.of("aaaa1", "cccc1", "bbbb2", "aaaa3"),
                store.keys(null).stream().map(ApiKey::keyId).toList());
    }

    @Test
    void revokingKeepsTheKeyWithItsFirstRevocationTime() {
        ApiKey key = key("rev1", Tenant.DEFAULT, Role.TENANT, START);
        store.addKey(key);
        Instant at = START.plus(Duration.ofMinutes(3)).plusNanos(1_000);

        ApiKey revoked = store.revoke("rev1", at).orElseThrow();

        assertEquals(at, revoked.revokedAt());
        assertTrue(revoked.revoked());
        assertEquals(Optional.of(revoked), store.key("rev1"));
        assertEquals(List.of(revoked), store.keys(null), "revoked keys are still listed");
        assertEquals(Optional.of(revoked), store.revoke("rev1", at.plusSeconds(60)), "idempotent");
        assertEquals(Optional.empty(), store.revoke("nokey1", at));
    }

    @Test
    void concurrentAddsOfOneIdLetExactlyOneWin() throws Exception {
        int threads = 8;
        AtomicInteger wins = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int n = i;
                futures.add(pool.submit(() -> {
                    go.await();
                    if (store.addKey(key("race1", Tenant.DEFAULT, Role.TENANT, START.plusSeconds(n)))) {
                        wins.incrementAndGet();
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        }
        assertEquals(1, wins.get());
        assertEquals(1, store.keys(null).size());
    }

    // ---- expiry ----

    @Test
    void aKeysExpiryRoundTripsToTheMicrosecondAndSurvivesRevocation() {
        Instant expiry = START.plus(Duration.ofDays(30)).plusNanos(7_000);
        ApiKey expiring = new ApiKey("exp1", Tenant.DEFAULT, Role.TENANT, "", ApiKeyTokens.hash(
                ApiKeyTokens.newToken("exp1")), START, null, expiry);
        ApiKey never = key("never1", Tenant.DEFAULT, Role.TENANT, START.plusSeconds(1));

        assertTrue(store.addKey(expiring));
        store.addKey(never);

        assertEquals(Optional.of(expiring), store.key("exp1"));
        assertEquals(expiry, store.key("exp1").orElseThrow().expiresAt());
        assertEquals(null, store.key("never1").orElseThrow().expiresAt(), "no expiry stays none");
        assertEquals(List.of(expiring, never), store.keys(null));
        ApiKey revoked = store.revoke("exp1", START.plusSeconds(5)).orElseThrow();
        assertEquals(expiry, revoked.expiresAt(), "revoking keeps the expiry");
        ApiKey replaced = new ApiKey("exp1", Tenant.DEFAULT, Role.ADMIN, "configured", expiring.secretHash(), START,
                null, null);
        store.putKey(replaced);
        assertEquals(Optional.of(replaced), store.key("exp1"), "put replaces the expiry too, with none");
    }

    // ---- roles and lists of functions ----

    @Test
    void everyRoleAndAnInvokersListOfFunctionsRoundTrip() {
        store.createTenant(new Tenant("acme", START));
        List<ApiKey> made = new java.util.ArrayList<>();
        int n = 0;
        for (Role role : Role.values()) {
            made.add(key("role" + n, "acme", role, START.plusSeconds(n)));
            n++;
        }
        ApiKey scoped = new ApiKey("scoped1", "acme", Role.INVOKER, "images", ApiKeyTokens.hash(
                ApiKeyTokens.newToken("scoped1")), START.plusSeconds(n), null, null,
                List.of("thumbnail", "resize", "a", "b-2"));
        made.add(scoped);
        for (ApiKey k : made) {
            assertTrue(store.addKey(k), k.toString());
        }

        assertEquals(made, store.keys("acme"), "every role, and the list in its order");
        assertEquals(Optional.of(scoped), store.key("scoped1"));
        assertEquals(List.of("thumbnail", "resize", "a", "b-2"), store.key("scoped1").orElseThrow().functions());
        assertEquals(null, store.key("role" + Role.INVOKER.ordinal()).orElseThrow().functions(),
                "an invoker key without a list has none");
        ApiKey revoked = store.revoke("scoped1", START.plusSeconds(60)).orElseThrow();
        assertEquals(scoped.functions(), revoked.functions(), "revoking keeps the list");
        assertEquals(Optional.of(revoked), store.key("scoped1"));
    }

    @Test
    void putReplacesAnInvokersListWithAnotherOrNone() {
        ApiKey listed = new ApiKey("put1", Tenant.DEFAULT, Role.INVOKER, "", ApiKeyTokens.hash(
                ApiKeyTokens.newToken("put1")), START, null, null, List.of("a"));
        store.addKey(listed);
        ApiKey other = new ApiKey("put1", Tenant.DEFAULT, Role.INVOKER, "", listed.secretHash(), START, null, null,
                List.of("b", "c"));

        store.putKey(other);
        assertEquals(Optional.of(other), store.key("put1"));
        ApiKey none = new ApiKey("put1", Tenant.DEFAULT, Role.ADMIN, "", listed.secretHash(), START, null);
        store.putKey(none);
        assertEquals(Optional.of(none), store.key("put1"), "an admin key in its place, without a list");
    }

    // ---- tenant deletion ----

    @Test
    void deletingATenantRevokesAllItsKeysAtOnceAndKeepsThem() {
        store.createTenant(new Tenant("acme", START));
        store.createTenant(new Tenant("globex", START));
        ApiKey first = key("acme1", "acme", Role.TENANT, START);
        ApiKey second = key("acme2", "acme", Role.ADMIN, START.plusSeconds(1));
        ApiKey earlier = key("acme3", "acme", Role.TENANT, START.plusSeconds(2));
        ApiKey other = key("glob1", "globex", Role.TENANT, START);
        for (ApiKey k : List.of(first, second, earlier, other)) {
            store.addKey(k);
        }
        Instant revokedBefore = START.plusSeconds(3);
        store.revoke("acme3", revokedBefore);
        Instant at = START.plus(Duration.ofHours(1)).plusNanos(2_000);

        List<ApiKey> revoked = store.deleteTenant("acme", at);

        assertEquals(List.of(first.revokedAt(at), second.revokedAt(at)), revoked, "the keys revoked now, oldest first");
        assertEquals(Optional.empty(), store.tenant("acme"));
        assertEquals(List.of("default", "globex"), store.tenants().stream().map(Tenant::id).toList());
        assertEquals(List.of(first.revokedAt(at), second.revokedAt(at), earlier.revokedAt(revokedBefore)),
                store.keys("acme"), "the keys stay, revoked; one revoked before keeps its time");
        assertEquals(Optional.of(other), store.key("glob1"), "another tenant's keys are untouched");
        assertTrue(store.tenant("globex").isPresent());
    }

    @Test
    void aDeletedTenantIsGoneForGoodAndItsIdStaysTaken() {
        store.createTenant(new Tenant("acme", START));
        store.deleteTenant("acme", START.plusSeconds(1));

        assertThrows(TenantNotFoundException.class, () -> store.deleteTenant("acme", START.plusSeconds(2)),
                "deleting twice");
        assertThrows(TenantNotFoundException.class, () -> store.deleteTenant("ghost", START.plusSeconds(2)));
        assertThrows(TenantNotFoundException.class, () -> store.addKey(key("late1", "acme", Role.TENANT, START)));
        assertThrows(TenantNotFoundException.class, () -> store.putKey(key("late2", "acme", Role.TENANT, START)));
        TenantAlreadyExistsException e = assertThrows(TenantAlreadyExistsException.class,
                () -> store.createTenant(new Tenant("acme", START.plusSeconds(3))));
        assertTrue(e.getMessage().contains("deleted"), e.getMessage());
        assertEquals(Optional.empty(), store.tenant("acme"), "a refused create changes nothing");
        assertEquals(List.of(), store.keys("acme"));
    }

    /** A key with a fresh random secret's hash. */
    protected static ApiKey key(String keyId, String tenant, Role role, Instant createdAt) {
        return new ApiKey(keyId, tenant, role, "", ApiKeyTokens.hash(ApiKeyTokens.newToken(keyId)), createdAt, null);
    }
}
