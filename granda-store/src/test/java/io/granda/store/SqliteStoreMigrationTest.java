package io.granda.store;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.RecordFilter;
import io.granda.core.StoreException;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.granda.store.TestData.applyScript;
import static io.granda.store.TestData.count;
import static io.granda.store.TestData.createAtVersion;
import static io.granda.store.TestData.insertBeforeVersionFive;
import static io.granda.store.TestData.exec;
import static io.granda.store.TestData.spec;
import static io.granda.store.TestData.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Versioned schema migrations: applied once, in order, atomically; a newer schema is refused. */
class SqliteStoreMigrationTest {

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();

    private SqliteStore open(Path db) {
        return SqliteStore.open(SqliteStoreConfig.defaults(db), clock);
    }

    @Test
    void aFreshFileIsCreatedAtTheLatestVersion() throws Exception {
        Path db = dir.resolve("nested/dirs/fresh.db");
        open(db).close();

        List<String> expected = new ArrayList<>();
        for (int v : Migrations.versions()) {
            expected.add(v + " " + Migrations.script(v));
        }
        assertEquals(expected, strings(db, "SELECT version || ' ' || script FROM schema_version ORDER BY version"));
        List<String> objects = strings(db, "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
        assertTrue(objects.containsAll(List.of("schema_version", "functions", "function_revisions", "function_env",
                "invocations", "invocations_by_function_start", "invocations_by_start", "usage_minutes",
                "usage_minutes_by_minute", "usage_minutes_by_tenant_minute", "usage_minutes_by_function_minute",
                "tenants", "api_keys", "api_keys_by_tenant", "functions_by_tenant")),
                objects.toString());
        assertInvocationsKeyedById(db);
        // WAL is a property of the file, so another process sees it too.
        assertEquals(List.of("wal"), strings(db, "PRAGMA journal_mode"));
    }

    @Test
    void reopeningAppliesNothingAndKeepsTheData() throws Exception {
        Path db = dir.resolve("reopen.db");
        DeployedFunction f;
        try (SqliteStore store = open(db)) {
            f = store.functions().create(spec("kept"));
        }
        List<String> before = strings(db, "SELECT version || ' ' || script || ' ' || applied_at_us FROM schema_version");

        clock.advance(Duration.ofDays(1));
        try (SqliteStore store = open(db)) {
            assertEquals(Optional.of(f), store.functions().find("kept"));
        }
        try (SqliteStore store = open(db)) {
            assertEquals(Optional.of(f), store.functions().find("kept"));
        }

        assertEquals(before, strings(db, "SELECT version || ' ' || script || ' ' || applied_at_us FROM schema_version"));
        assertEquals(Migrations.versions().size(), count(db, "SELECT COUNT(*) FROM schema_version"));
    }

    @Test
    void aFileFromANewerGrandaIsRefusedAndLeftAlone() throws Exception {
        Path db = dir.resolve("newer.db");
        open(db).close();
        int newer = Migrations.latestVersion() + 1;
        exec(db, "INSERT INTO schema_version (version, script, applied_at_us) VALUES (" + newer
                + ", 'V" + newer + "__from_the_future.sql', 0)");

        StoreException e = assertThrows(StoreException.class, () -> open(db));

        assertTrue(e.getMessage().contains("schema version " + newer), e.getMessage());
        assertTrue(e.getMessage().contains("knows versions up to " + Migrations.latestVersion()), e.getMessage());
        assertTrue(e.getMessage().contains("newer Granda"), e.getMessage());
        assertTrue(e.getMessage().contains(db.toString()), e.getMessage());
        assertEquals(newer, count(db, "SELECT MAX(version) FROM schema_version"));
    }

    @Test
    void aFailedMigrationLeavesTheFileAsItWas() throws Exception {
        Path db = dir.resolve("clash.db");
        // A table in the way makes V1 fail part-way through: everything it did before must be rolled back.
        exec(db, "CREATE TABLE invocations (whatever TEXT)");

        StoreException e = assertThrows(StoreException.class, () -> open(db));

        assertTrue(e.getMessage().contains("V1__init.sql"), e.getMessage());
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertEquals(List.of("invocations"),
                strings(db, "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"));
    }

    @Test
    void aFileThatIsNotADatabaseIsRefusedClearly() throws Exception {
        Path db = dir.resolve("not-a.db");
        Files.writeString(db, "this is not a database, just some text that is long enough to have a header"
                .repeat(20), StandardCharsets.UTF_8);

        StoreException e = assertThrows(StoreException.class, () -> open(db));

        assertTrue(e.getMessage().contains(db.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not a database"), e.getMessage());
    }

    @Test
    void scriptsAreListedByIncreasingVersionAndArePresent() {
        int previous = 0;
        for (String script : Migrations.SCRIPTS) {
            int version = Integer.parseInt(script.substring(1, script.indexOf("__")));
            assertTrue(version > previous, script + " after version " + previous);
            assertEquals(script, Migrations.script(version));
            assertTrue(Migrations.class.getResource("migrations/" + script) != null, "missing resource " + script);
            previous = version;
        }
        assertEquals(previous, Migrations.latestVersion());
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), Migrations.versions());
    }

    @Test
    void aVersionFiveFileGetsTenantsAndKeysItsFunctionsBelongingToTheDefaultTenant() throws Exception {
        Path db = dir.resolve("v5.db");
        createAtVersion(db, 5);
        exec(db, "INSERT INTO functions VALUES ('fid', 'old', 'old-aaaaaaaaaaaaaaaaaaaaaaaa', 1, 1234567, 1234567)");
        exec(db, "INSERT INTO function_revisions (function_id, revision, name, description, image, mode, "
                + "timeout_seconds, timeout_nanos, memory_mb, made_at_us) "
                + "VALUES ('fid', 1, 'old', '', 'granda/hello', 'RUN', 10, 0, 128, 1234567)");

        try (SqliteStore store = open(db)) {
            DeployedFunction f = store.functions().find("old").orElseThrow();
            assertEquals("default", f.tenant());
            assertFalse(f.spec().isPrivate(), "functions from before private ones are public");
            assertEquals(List.of(new io.granda.core.access.Tenant("default", Instant.ofEpochSecond(1, 234_567_000))),
                    store.apiKeys().tenants(), "the default tenant dates from the first function");
            assertEquals(List.of(), store.apiKeys().keys(null));
        }
        assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"),
                strings(db, "SELECT version FROM schema_version ORDER BY version"));
    }

    @Test
    void aVersionSevenFileKeepsItsKeysValidAndTheyNeverExpire() throws Exception {
        Path db = dir.resolve("v7.db");
        createAtVersion(db, 7);
        String token = io.granda.core.access.ApiKeyTokens.newToken("oldkey7");
        String revokedToken = io.granda.core.access.ApiKeyTokens.newToken("gone7");
        exec(db, "INSERT INTO tenants (id, created_at_us) VALUES ('acme', 1000000)");
        exec(db, "INSERT INTO api_keys (key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us) "
                + "VALUES ('oldkey7', 'acme', 'TENANT', 'ci', '" + io.granda.core.access.ApiKeyTokens.hash(token)
                + "', 2000000, NULL)");
        exec(db, "INSERT INTO api_keys (key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us) "
                + "VALUES ('gone7', 'acme', 'TENANT', '', '" + io.granda.core.access.ApiKeyTokens.hash(revokedToken)
                + "', 2000000, 3000000)");
        // Years after the keys were made: a key without an expiry never expires.
        clock.advance(Duration.ofDays(20 * 365));

        try (SqliteStore store = open(db)) {
            io.granda.core.access.ApiKeys keys = new io.granda.core.access.ApiKeys(store.apiKeys(), clock);
            io.granda.core.access.ApiKey old = keys.verify(token).orElseThrow();
            assertEquals(null, old.expiresAt());
            assertEquals("acme", old.tenant());
            assertEquals(io.granda.core.access.KeyCheck.Result.REVOKED, keys.check(revokedToken).result());
            assertEquals(List.of("acme", "default"),
                    keys.tenants().stream().map(io.granda.core.access.Tenant::id).toList());
            // And the new columns work on the upgraded file.
            keys.issue("acme", io.granda.core.access.Role.TENANT, "new", clock.instant().plusSeconds(60));
            assertEquals(2, keys.deleteTenant("acme").size(), "both valid keys revoked");
        }
        assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"),
                strings(db, "SELECT version FROM schema_version ORDER BY version"));
        assertEquals(1, count(db, "SELECT COUNT(*) FROM api_keys WHERE expires_at_us IS NOT NULL"));
        assertEquals(1, count(db, "SELECT COUNT(*) FROM tenants WHERE deleted_at_us IS NOT NULL"));
    }

    @Test
    void aVersionNineFileKeepsEveryKeyAsItWasAndTakesReaderKeys() throws Exception {
        Path db = dir.resolve("v9.db");
        createAtVersion(db, 9);
        String admin = io.granda.core.access.ApiKeyTokens.newToken("admin9");
        String expiring = io.granda.core.access.ApiKeyTokens.newToken("exp9");
        String revoked = io.granda.core.access.ApiKeyTokens.newToken("rev9");
        exec(db, "INSERT INTO tenants (id, created_at_us) VALUES ('acme', 1000000)");
        insertV9Key(db, "admin9", "default", "ADMIN", "ops", admin, null, null);
        long expiresUs = clock.instant().plus(Duration.ofDays(1)).toEpochMilli() * 1000;
        insertV9Key(db, "exp9", "acme", "TENANT", "ci", expiring, null, expiresUs);
        insertV9Key(db, "rev9", "acme", "TENANT", "", revoked, 3000000L, null);

        try (SqliteStore store = open(db)) {
            io.granda.core.access.ApiKeys keys = new io.granda.core.access.ApiKeys(store.apiKeys(), clock);
            assertEquals(io.granda.core.access.Role.ADMIN, keys.verify(admin).orElseThrow().role());
            io.granda.core.access.ApiKey ci = keys.verify(expiring).orElseThrow();
            assertEquals("ci", ci.name());
            assertEquals(Instant.ofEpochMilli(expiresUs / 1000), ci.expiresAt(), "the expiry is kept");
            assertEquals(io.granda.core.access.KeyCheck.Result.REVOKED, keys.check(revoked).result());
            String reader = keys.issue("acme", io.granda.core.access.Role.READER, "dashboard", null).token();
            assertEquals(io.granda.core.access.Role.READER, keys.verify(reader).orElseThrow().role());
        }
        try (SqliteStore store = open(db)) {
            assertEquals(List.of(io.granda.core.access.Role.TENANT, io.granda.core.access.Role.TENANT,
                            io.granda.core.access.Role.READER),
                    store.apiKeys().keys("acme").stream().map(io.granda.core.access.ApiKey::role).toList(),
                    "after a restart too");
        }
        assertEquals(1, count(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = "
                + "'api_keys_by_tenant'"), "the index is made again");
    }

    @Test
    void aVersionTenFileKeepsEveryKeyAsItWasAndTakesInvokerKeysWithTheirFunctions() throws Exception {
        Path db = dir.resolve("v10.db");
        createAtVersion(db, 10);
        String admin = io.granda.core.access.ApiKeyTokens.newToken("admin10");
        String reader = io.granda.core.access.ApiKeyTokens.newToken("read10");
        String revoked = io.granda.core.access.ApiKeyTokens.newToken("rev10");
        String expiring = io.granda.core.access.ApiKeyTokens.newToken("exp10");
        exec(db, "INSERT INTO tenants (id, created_at_us) VALUES ('acme', 1000000)");
        insertV9Key(db, "admin10", "default", "ADMIN", "ops", admin, null, null);
        insertV9Key(db, "read10", "acme", "READER", "board", reader, null, null);
        insertV9Key(db, "rev10", "acme", "TENANT", "", revoked, 3000000L, null);
        long expiresUs = clock.instant().plus(Duration.ofDays(1)).toEpochMilli() * 1000;
        insertV9Key(db, "exp10", "acme", "TENANT", "ci", expiring, null, expiresUs);
        List<String> rowsBefore = strings(db, "SELECT " + V10_KEY_ROW + " FROM api_keys ORDER BY key_id");

        List<io.granda.core.access.ApiKey> before;
        try (SqliteStore store = open(db)) {
            assertEquals(rowsBefore, strings(db, "SELECT " + V10_KEY_ROW + " FROM api_keys ORDER BY key_id"),
                    "every row as it was, to the microsecond");
            assertEquals(4, count(db, "SELECT COUNT(*) FROM api_keys WHERE functions IS NULL"), "no key has a list");
            io.granda.core.access.ApiKeys keys = new io.granda.core.access.ApiKeys(store.apiKeys(), clock);
            assertEquals(io.granda.core.access.Role.ADMIN, keys.verify(admin).orElseThrow().role());
            io.granda.core.access.ApiKey board = keys.verify(reader).orElseThrow();
            assertEquals(io.granda.core.access.Role.READER, board.role());
            assertEquals("board", board.name());
            assertEquals(null, board.functions());
            assertEquals(io.granda.core.access.KeyCheck.Result.REVOKED, keys.check(revoked).result());
            assertEquals(Instant.ofEpochMilli(expiresUs / 1000), keys.verify(expiring).orElseThrow().expiresAt(),
                    "the expiry is kept");
            // And the new role and column work on the upgraded file.
            String invoker = keys.issue("acme", io.granda.core.access.Role.INVOKER, "images", null,
                    List.of("resize", "thumbnail")).token();
            assertEquals(List.of("resize", "thumbnail"), keys.verify(invoker).orElseThrow().functions());
            keys.issue("acme", io.granda.core.access.Role.INVOKER, "all", null, null);
            before = store.apiKeys().keys(null);
        }
        try (SqliteStore store = open(db)) {
            assertEquals(before, store.apiKeys().keys(null), "after a restart too");
            // Oldest first, then by id: exp10, read10, rev10, then the two made now.
            assertEquals(List.of(io.granda.core.access.Role.TENANT, io.granda.core.access.Role.READER,
                            io.granda.core.access.Role.TENANT, io.granda.core.access.Role.INVOKER,
                            io.granda.core.access.Role.INVOKER),
                    store.apiKeys().keys("acme").stream().map(io.granda.core.access.ApiKey::role).toList());
        }
        assertEquals(List.of("[\"resize\",\"thumbnail\"]"),
                strings(db, "SELECT functions FROM api_keys WHERE functions IS NOT NULL"), "a JSON array");
        assertEquals(1, count(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = "
                + "'api_keys_by_tenant'"), "the index is made again");
        // The schema itself refuses a list on a key of another role, and one that is not a JSON array.
        assertThrows(java.sql.SQLException.class, () -> exec(db, "UPDATE api_keys SET functions = '[\"a\"]' "
                + "WHERE key_id = 'read10'"));
        assertThrows(java.sql.SQLException.class, () -> exec(db, "UPDATE api_keys SET functions = 'resize' "
                + "WHERE role = 'INVOKER'"));
        assertThrows(java.sql.SQLException.class, () -> exec(db, "UPDATE api_keys SET functions = '[]' "
                + "WHERE role = 'INVOKER'"));
        assertThrows(java.sql.SQLException.class, () -> exec(db, "UPDATE api_keys SET role = 'ROOT' "
                + "WHERE key_id = 'read10'"));
    }

    /** Every column a version 10 file has of a key, as one text. */
    private static final String V10_KEY_ROW = "key_id || '|' || tenant || '|' || role || '|' || name || '|' || "
            + "secret_sha256 || '|' || created_at_us || '|' || IFNULL(revoked_at_us, '-') || '|' || "
            + "IFNULL(expires_at_us, '-')";

    /** A key row as a version 8, 9 or 10 file holds it. */
    private static void insertV9Key(Path db, String keyId, String tenant, String role, String name, String token,
                                    Long revokedUs, Long expiresUs) throws Exception {
        exec(db, "INSERT INTO api_keys (key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us, "
                + "expires_at_us) VALUES ('" + keyId + "', '" + tenant + "', '" + role + "', '" + name + "', '"
                + io.granda.core.access.ApiKeyTokens.hash(token) + "', 2000000, " + revokedUs + ", " + expiresUs + ")");
    }

    @Test
    void aFileMissingALowerVersionGetsItAfterAHigherOne() throws Exception {
        // As a file migrated by a build that lacked versions below its newest one would be: here V5 and V6 (events,
        // made beside V7 on another branch) are the gap.
        Path db = dir.resolve("gap.db");
        createAtVersion(db, 4);
        applyScript(db, 7);

        try (SqliteStore store = open(db)) {
            store.functions().create("acme", spec("after-the-gap"), null);
        }

        assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"),
                strings(db, "SELECT version FROM schema_version ORDER BY version"));
        assertInvocationsKeyedById(db);
        assertEquals(0, count(db, "SELECT COUNT(*) FROM async_events"), "V6 applied after V7");
        try (SqliteStore store = open(db)) {
            assertEquals("acme", store.functions().find("after-the-gap").orElseThrow().tenant());
        }
    }

    @Test
    void aFileWithAVersionThisBuildDoesNotKnowIsRefusedAndLeftAlone() throws Exception {
        Path db = dir.resolve("other-build.db");
        open(db).close();
        // A version this build has, recorded under another script: the file was migrated by another build.
        exec(db, "UPDATE schema_version SET script = 'V6__another_change.sql' WHERE version = 6");

        StoreException e = assertThrows(StoreException.class, () -> open(db));

        assertTrue(e.getMessage().contains("V6__another_change.sql"), e.getMessage());
        assertTrue(e.getMessage().contains("another build"), e.getMessage());
        assertEquals(Migrations.versions().size(), count(db, "SELECT COUNT(*) FROM schema_version"));
    }

    @Test
    void aKnownVersionRecordedUnderAnotherScriptIsRefused() throws Exception {
        Path db = dir.resolve("renamed.db");
        open(db).close();
        exec(db, "UPDATE schema_version SET script = 'V7__something_else.sql' WHERE version = 7");

        StoreException e = assertThrows(StoreException.class, () -> open(db));

        assertTrue(e.getMessage().contains("knows as V7__tenants_and_keys.sql"), e.getMessage());
    }

    @Test
    void aVersionOneFileIsUpgradedKeepingItsFunctionsAndRecords() throws Exception {
        Path db = dir.resolve("v1.db");
        // A file exactly as a version-1 Granda left it: the V1 script, one function, one call.
        String v1 = new String(Migrations.class.getResourceAsStream("migrations/V1__init.sql").readAllBytes(),
                StandardCharsets.UTF_8);
        exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, script TEXT NOT NULL, "
                + "applied_at_us INTEGER NOT NULL) STRICT");
        exec(db, v1);
        exec(db, "INSERT INTO schema_version VALUES (1, 'V1__init.sql', 0)");
        exec(db, "INSERT INTO functions VALUES ('fid', 'old', 'old-aaaaaaaaaaaaaaaaaaaaaaaa', 1, 0, 0)");
        exec(db, "INSERT INTO function_revisions (function_id, revision, name, description, image, mode, "
                + "timeout_seconds, timeout_nanos, memory_mb, made_at_us) "
                + "VALUES ('fid', 1, 'old', '', 'granda/hello', 'RUN', 10, 0, 128, 0)");
        exec(db, "INSERT INTO invocations (invocation_id, tenant, function_id, function_name, revision, start_us, "
                + "end_us, queue_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold, request_bytes, "
                + "response_bytes, billed_ms, mb_ms) VALUES ('inv', 'default', 'fid', 'old', 1, 1000, 2000, 0, "
                + "150000, 900, 128, -1, 'SUCCESS', 0, 1, 0, 0, 1, 128)");

        try (SqliteStore store = open(db)) {
            DeployedFunction f = store.functions().find("old").orElseThrow();
            assertEquals(io.granda.core.ScalingPolicy.DEFAULT, f.spec().scaling(),
                    "functions from before hot mode get the default scaling");
            io.granda.core.InvocationRecord r = store.metering().find("inv").orElseThrow();
            assertEquals(new io.granda.core.InvocationRecord.PhaseMicros(0, 0, 0, 150_000, 900), r.phases(),
                    "a version-1 record keeps its cold start in init, its split unknown");
            assertEquals(1, r.billedMillis());
            assertEquals(List.of(new UsageBucket(Instant.EPOCH, UsageSummary.of(r))), store.metering().usageSeries(
                    RecordFilter.all(Instant.EPOCH, Instant.EPOCH.plusSeconds(60)), Granularity.MINUTE),
                    "the version-4 migration added the old record to its minute");
        }
        assertEquals(Migrations.versions().size(), count(db, "SELECT COUNT(*) FROM schema_version"));
    }

    @Test
    void upgradingToVersionFourBackfillsTheAggregatesFromTheRecords() throws Exception {
        Instant t0 = Instant.parse("2026-03-01T10:15:30.123456Z");
        List<InvocationRecord> records = new ArrayList<>();
        Outcome[] outcomes = Outcome.values();
        for (int i = 0; i < 600; i++) {
            Instant start = t0.plusMillis(i * 9_871L).plusNanos((i % 5) * 1_000L);
            records.add(new InvocationRecord("r" + i, i % 4 == 0 ? "globex" : "acme", "fn-" + (i % 3),
                    "name-" + (i % 3) + (i < 300 ? "-old" : "-new"), 1, start, start.plusNanos(1_000L * (i * 37 % 900_000)),
                    InvocationRecord.PhaseMicros.runOnly(i * 1_013L % 2_000_000), 128 << (i % 3),
                    i % 5 == 0 ? -1 : i * 7L, outcomes[i % outcomes.length], 0, i % 6 == 0, 0, 0));
        }
        // Before 1970, where a truncating division would pick the wrong minute.
        records.add(new InvocationRecord("pre-epoch", "acme", "fn-0", "old", 1,
                Instant.parse("1969-12-31T23:59:59.999999Z"), Instant.parse("1970-01-01T00:00:00.000001Z"),
                InvocationRecord.PhaseMicros.runOnly(2), 128, 5, Outcome.SUCCESS, 0, false, 0, 0));
        // Stored in an order other than their start, in several batches, as a recorder under load would.
        List<InvocationRecord> shuffled = new ArrayList<>(records);
        java.util.Collections.shuffle(shuffled, new java.util.Random(7));
        // Calls in the same microsecond under different names, in one batch and in two: the first stored names
        // the minute.
        Instant tie = Instant.parse("2026-03-01T12:00:00.000001Z");
        List<InvocationRecord> ties = new ArrayList<>();
        for (String name : List.of("first", "second", "third", "fourth")) {
            ties.add(new InvocationRecord("tie-" + name, "acme", ties.size() < 2 ? "fn-tie" : "fn-tie-2", name, 1,
                    tie, tie, InvocationRecord.PhaseMicros.runOnly(1), 128, -1, Outcome.SUCCESS, 0, false, 0, 0));
        }
        records.addAll(ties);
        RecordFilter all = RecordFilter.all(Instant.MIN, Instant.MAX);
        // What appending the records leaves: the model the backfill must reproduce.
        Map<Granularity, List<UsageBucket>> series = new LinkedHashMap<>();
        List<FunctionUsage> byFunction;
        Path appended = dir.resolve("appended.db");
        try (SqliteStore store = open(appended)) {
            for (int from = 0; from < shuffled.size(); from += 97) {
                store.metering().append(shuffled.subList(from, Math.min(shuffled.size(), from + 97)));
            }
            store.metering().append(ties.subList(0, 2));
            store.metering().append(ties.subList(2, 3));
            store.metering().append(ties.subList(3, 4));
            for (Granularity g : Granularity.values()) {
                series.put(g, store.metering().usageSeries(all, g));
            }
            byFunction = store.metering().usageByFunction(all);
        }
        List<String> rows = strings(appended, "SELECT " + AGGREGATE_ROW
                + " FROM usage_minutes ORDER BY tenant, function_id, minute_us");
        assertTrue(rows.size() > 100, "many minutes: " + rows.size());
        // A file as a version-3 Granda left it: the same records stored in the same order, no aggregates.
        Path db = dir.resolve("v3.db");
        createAtVersion(db, 3);
        List<InvocationRecord> inOrderStored = new ArrayList<>(shuffled);
        inOrderStored.addAll(ties);
        insertBeforeVersionFive(db, inOrderStored);

        try (SqliteStore store = open(db)) {
            for (Granularity g : Granularity.values()) {
                assertEquals(series.get(g), store.metering().usageSeries(all, g), g.toString());
            }
            assertEquals(byFunction, store.metering().usageByFunction(all));
            assertEquals(UsageSummary.sum(series.get(Granularity.DAY)),
                    store.metering().usage(null, Instant.MIN, Instant.MAX));
        }
        assertEquals(rows, strings(db, "SELECT " + AGGREGATE_ROW
                + " FROM usage_minutes ORDER BY tenant, function_id, minute_us"),
                "the backfill wrote exactly the rows appending wrote, names and last starts included");
        List<String> tieRows = rows.stream().filter(r -> r.contains("|fn-tie")).toList();
        assertEquals(2, tieRows.size(), tieRows.toString());
        assertTrue(tieRows.get(0).endsWith("|first|" + EpochMicros.of(tie)), tieRows.toString());
        assertTrue(tieRows.get(1).endsWith("|third|" + EpochMicros.of(tie)), tieRows.toString());
    }

    @Test
    void upgradingToVersionFiveKeysTheRecordsByIdKeepingEveryOne() throws Exception {
        Instant t0 = Instant.parse("2026-03-01T10:15:30.123456Z");
        List<InvocationRecord> records = new ArrayList<>();
        Outcome[] outcomes = Outcome.values();
        for (int i = 0; i < 900; i++) {
            // Three records to a start, of different functions and some of the same, so that order among records
            // that started together (by id now, by arrival before) is exercised.
            Instant start = t0.plusMillis((i / 3) * 7_919L).plusNanos((i % 7) * 1_000L);
            records.add(new InvocationRecord(String.format("01jv4record%015d", (i * 389) % 900),
                    i % 4 == 0 ? "globex" : "acme", "fn-" + (i % 2 == 0 ? 0 : i % 5), "name-" + (i % 5), 1 + i % 3,
                    start, start.plusNanos(1_000L * (i * 37 % 900_000)),
                    new InvocationRecord.PhaseMicros(i % 11, i % 2 == 0 ? 0 : 5_000, i % 3 == 0 ? 0 : 70_000,
                            i % 5 == 0 ? 150_000 : 0, i * 1_013L % 2_000_000),
                    128 << (i % 3), i % 5 == 0 ? -1 : i * 7L, outcomes[i % outcomes.length],
                    i % 9 == 0 ? 137 : 0, i % 6 == 0, i * 17L, i * 31L));
        }
        records.add(new InvocationRecord("pre-epoch", "acme", "fn-0", "old", 1,
                Instant.parse("1969-12-31T23:59:59.999999Z"), Instant.parse("1970-01-01T00:00:00.000001Z"),
                InvocationRecord.PhaseMicros.runOnly(2), 128, 5, Outcome.SUCCESS, 0, false, 0, 0));
        List<InvocationRecord> shuffled = new ArrayList<>(records);
        java.util.Collections.shuffle(shuffled, new java.util.Random(11));
        // A file as a version-4 Granda left it: records stored in arrival order, aggregates backfilled from them.
        Path db = dir.resolve("v4.db");
        createAtVersion(db, 3);
        insertBeforeVersionFive(db, shuffled);
        applyScript(db, 4);
        List<String> aggregates = strings(db, "SELECT " + AGGREGATE_ROW
                + " FROM usage_minutes ORDER BY tenant, function_id, minute_us");
        assertEquals(List.of("seq"), strings(db, "SELECT name FROM pragma_table_info('invocations') WHERE pk = 1"));
        RecordFilter all = RecordFilter.all(Instant.MIN, Instant.MAX);
        Comparator<InvocationRecord> order = Comparator.comparing(InvocationRecord::start)
                .thenComparing(InvocationRecord::invocationId);

        try (SqliteStore store = open(db)) {
            SqliteMeteringStore m = store.metering();
            for (InvocationRecord r : records) {
                assertEquals(Optional.of(r), m.find(r.invocationId()), r.invocationId());
            }
            for (String fn : List.of("fn-0", "fn-1", "fn-3", "fn-4")) {
                List<InvocationRecord> of = records.stream().filter(r -> r.functionId().equals(fn)).toList();
                assertFalse(of.isEmpty(), fn);
                assertEquals(of.stream().sorted(order.reversed()).toList(), walk(m, fn, 7), fn);
                assertEquals(sum(of), m.usage(fn, Instant.MIN, Instant.MAX), fn);
                assertEquals(sum(of), UsageSummary.sum(m.usageSeries(new RecordFilter(null, fn, Instant.MIN,
                        Instant.MAX), Granularity.DAY)), fn);
            }
            assertEquals(sum(records), m.usage(null, Instant.MIN, Instant.MAX));
            List<InvocationRecord> exported = new ArrayList<>();
            assertEquals(records.size(), m.exportRecords(all, exported::add));
            assertEquals(records.stream().sorted(order).toList(), exported);

            // The new primary key recognises the migrated records, and appending goes on.
            assertEquals(List.of(), m.append(shuffled.subList(0, 300)));
            InvocationRecord later = new InvocationRecord("01jv5record", "acme", "fn-1", "name-1", 1,
                    t0.plusSeconds(86_400), t0.plusSeconds(86_401), InvocationRecord.PhaseMicros.runOnly(10), 128, -1,
                    Outcome.SUCCESS, 0, false, 0, 0);
            assertEquals(List.of(later), m.append(List.of(shuffled.get(0), later)));
            assertEquals(later, m.invocations("fn-1", 1, null).items().getFirst());
            assertEquals(sum(records).plus(UsageSummary.of(later)), m.usage(null, Instant.MIN, Instant.MAX));
        }
        assertEquals(Migrations.versions().size(), count(db, "SELECT COUNT(*) FROM schema_version"));
        assertInvocationsKeyedById(db);
        assertEquals(records.size() + 1, count(db, "SELECT COUNT(*) FROM invocations"));
        // The migration left the aggregates alone; the one later call added its own minute.
        List<String> after = strings(db, "SELECT " + AGGREGATE_ROW
                + " FROM usage_minutes ORDER BY tenant, function_id, minute_us");
        assertEquals(aggregates.size() + 1, after.size());
        assertTrue(after.containsAll(aggregates));
    }

    /**
     * Asserts the version-5 shape of the records table: keyed by invocation id without a rowid, no seq, and only
     * the two secondary indexes; the old table's AUTOINCREMENT counter gone with it.
     */
    private static void assertInvocationsKeyedById(Path db) throws Exception {
        assertEquals(List.of("invocation_id"),
                strings(db, "SELECT name FROM pragma_table_info('invocations') WHERE pk = 1"));
        assertEquals(List.of(), strings(db, "SELECT name FROM pragma_table_info('invocations') WHERE name = 'seq'"));
        assertTrue(strings(db, "SELECT sql FROM sqlite_schema WHERE name = 'invocations'").getFirst()
                .contains("WITHOUT ROWID"));
        assertEquals(List.of("invocations_by_function_start", "invocations_by_start"), strings(db,
                "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'invocations' "
                        + "AND name NOT LIKE 'sqlite_%' ORDER BY name"));
        assertEquals(List.of("invocation_id"), strings(db, "SELECT name FROM pragma_index_info("
                + "(SELECT name FROM pragma_index_list('invocations') WHERE origin = 'pk'))"));
        if (!strings(db, "SELECT name FROM sqlite_schema WHERE name = 'sqlite_sequence'").isEmpty()) {
            assertEquals(0, count(db, "SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'invocations'"));
        }
    }

    private static List<InvocationRecord> walk(SqliteMeteringStore m, String functionId, int pageSize) {
        List<InvocationRecord> all = new ArrayList<>();
        String cursor = null;
        do {
            io.granda.core.Page<InvocationRecord> page = m.invocations(functionId, pageSize, cursor);
            all.addAll(page.items());
            cursor = page.nextCursor();
        } while (cursor != null);
        return all;
    }

    private static UsageSummary sum(List<InvocationRecord> records) {
        UsageSummary total = UsageSummary.EMPTY;
        for (InvocationRecord r : records) {
            total = total.plus(UsageSummary.of(r));
        }
        return total;
    }

    private static final String AGGREGATE_ROW = "tenant || '|' || function_id || '|' || minute_us || '|' || calls "
            + "|| '|' || errors || '|' || timeouts || '|' || out_of_memory || '|' || cold_starts || '|' || compute_ms "
            + "|| '|' || billed_ms || '|' || mb_ms || '|' || cpu_us || '|' || function_name || '|' || last_start_us";
}
