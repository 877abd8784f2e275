package io.granda.store;

import io.granda.core.access.ApiKeys;
import io.granda.core.access.IssuedApiKey;
import io.granda.core.access.Role;
import io.granda.core.access.Tenant;
import io.granda.core.spi.ApiKeyStore;
import io.granda.testkit.ApiKeyStoreContract;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SQLite key store, on a real file, against the shared contract; and what is (not) in the file. */
class SqliteApiKeyStoreTest extends ApiKeyStoreContract {

    @TempDir
    Path dir;

    private SqliteStore store;

    @Override
    protected ApiKeyStore createStore(FakeClock clock) {
        store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), clock);
        return store.apiKeys();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void theFileHoldsHashesNeverKeys() throws Exception {
        ApiKeys keys = new ApiKeys(store.apiKeys(), clock);
        keys.createTenant("acme");
        IssuedApiKey admin = keys.issue(Tenant.DEFAULT, Role.ADMIN, "ops");
        IssuedApiKey tenant = keys.issue("acme", Role.TENANT, "ci");
        store.close();

        String secretOfAdmin = admin.token().substring(admin.token().lastIndexOf('_') + 1);
        String secretOfTenant = tenant.token().substring(tenant.token().lastIndexOf('_') + 1);
        // Every byte of the database and its write-ahead log, as an attacker with the files would read them.
        StringBuilder everything = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                everything.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            }
        }
        String bytes = everything.toString();
        assertFalse(bytes.contains(secretOfAdmin), "the admin key's secret is in the file");
        assertFalse(bytes.contains(secretOfTenant), "the tenant key's secret is in the file");
        assertTrue(bytes.contains(admin.key().secretHash()), "its hash is");

        store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), clock);
        assertEquals(Set.of(admin.key().secretHash(), tenant.key().secretHash()),
                Set.copyOf(TestData.strings(dir.resolve("granda.db"), "SELECT secret_sha256 FROM api_keys")));
        ApiKeys reopened = new ApiKeys(store.apiKeys(), clock);
        assertEquals(admin.key(), reopened.verify(admin.token()).orElseThrow(), "a key still works after a restart");
        assertEquals(tenant.key(), reopened.verify(tenant.token()).orElseThrow());
    }
}
