package io.granda.store;

import io.granda.core.DeployedFunction;
import io.granda.core.StoreException;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.granda.store.TestData.count;
import static io.granda.store.TestData.exec;
import static io.granda.store.TestData.spec;
import static io.granda.store.TestData.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
        for (int v = 1; v <= Migrations.latestVersion(); v++) {
            expected.add(v + " " + Migrations.SCRIPTS.get(v - 1));
        }
        assertEquals(expected, strings(db, "SELECT version || ' ' || script FROM schema_version ORDER BY version"));
        List<String> objects = strings(db, "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
        assertTrue(objects.containsAll(List.of("schema_version", "functions", "function_revisions", "function_env",
                "invocations", "invocations_by_function_seq", "invocations_by_function_start",
                "invocations_by_start")), objects.toString());
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
        assertEquals(Migrations.latestVersion(), count(db, "SELECT COUNT(*) FROM schema_version"));
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
    void scriptsAreNumberedFromOneWithoutGaps() {
        for (int i = 0; i < Migrations.SCRIPTS.size(); i++) {
            assertTrue(Migrations.SCRIPTS.get(i).startsWith("V" + (i + 1) + "__"), Migrations.SCRIPTS.get(i));
            assertTrue(Migrations.class.getResource("migrations/" + Migrations.SCRIPTS.get(i)) != null,
                    "missing resource " + Migrations.SCRIPTS.get(i));
        }
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
        }
        assertEquals(Migrations.latestVersion(), count(db, "SELECT COUNT(*) FROM schema_version"));
    }
}
