package io.granda.store;

import io.granda.core.FunctionSpec;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Records, specs and raw SQL access for the store's own tests. */
final class TestData {

    private TestData() {
    }

    static InvocationRecord record(String invocationId, String functionId, Instant start) {
        return new InvocationRecord(invocationId, InvocationRecord.DEFAULT_TENANT, functionId, "fn", 1, start,
                start.plusNanos(2_000_000), new InvocationRecord.PhaseMicros(0, 0, 0, 0, 1_500), 128, -1, Outcome.SUCCESS, 0, false, 0, 0);
    }

    /**
     * Makes a file as a Granda of an older schema version left it: the migration scripts up to that version, each
     * recorded in schema_version, and nothing else.
     */
    static void createAtVersion(Path db, int version) throws Exception {
        exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, script TEXT NOT NULL, "
                + "applied_at_us INTEGER NOT NULL) STRICT");
        for (int v : Migrations.versions()) {
            if (v <= version) {
                applyScript(db, v);
            }
        }
    }

    /** Runs migration script {@code version} on the file and records it, as Migrations would. */
    static void applyScript(Path db, int version) throws Exception {
        String script = Migrations.script(version);
        try (var in = Migrations.class.getResourceAsStream("migrations/" + script)) {
            exec(db, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        exec(db, "INSERT INTO schema_version VALUES (" + version + ", '" + script + "', 0)");
    }

    /**
     * Stores records as schema versions 2 to 4 did: one INSERT OR IGNORE each, into the table whose rowid (seq) is
     * the arrival order, in the order given; the aggregates are not touched (version 4's migration backfills them).
     */
    static void insertBeforeVersionFive(Path db, List<InvocationRecord> records) throws SQLException {
        try (Connection c = jdbc(db); var ps = c.prepareStatement("""
                INSERT OR IGNORE INTO invocations (invocation_id, tenant, function_id, function_name, revision,
                    start_us, end_us, queue_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold,
                    request_bytes, response_bytes, billed_ms, mb_ms, pull_us, create_start_us)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
            c.setAutoCommit(false);
            for (InvocationRecord r : records) {
                InvocationQueries.Row row = InvocationQueries.Row.of(r);
                ps.setString(1, r.invocationId());
                ps.setString(2, r.tenant());
                ps.setString(3, r.functionId());
                ps.setString(4, r.functionName());
                ps.setLong(5, r.revision());
                ps.setLong(6, row.startUs());
                ps.setLong(7, row.endUs());
                ps.setLong(8, r.queueMicros());
                ps.setLong(9, r.initMicros());
                ps.setLong(10, r.runMicros());
                ps.setInt(11, r.memoryMb());
                ps.setLong(12, r.cpuMicros());
                ps.setString(13, r.outcome().name());
                ps.setInt(14, r.exitCode());
                ps.setInt(15, r.cold() ? 1 : 0);
                ps.setLong(16, r.requestBytes());
                ps.setLong(17, r.responseBytes());
                ps.setLong(18, row.billedMs());
                ps.setLong(19, row.mbMs());
                ps.setLong(20, r.phases().pullMicros());
                ps.setLong(21, r.phases().startMicros());
                ps.executeUpdate();
            }
            c.commit();
        }
    }

    static FunctionSpec spec(String name) {
        return FunctionSpec.builder(name).image("granda/hello:latest").build();
    }

    /** A plain JDBC connection to the file, beside the store's own: what another process would see. */
    static Connection jdbc(Path db) throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 10000");
        }
        return c;
    }

    static void exec(Path db, String sql) throws SQLException {
        try (Connection c = jdbc(db); Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    static long count(Path db, String sql) throws SQLException {
        try (Connection c = jdbc(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** @return the first column of every row */
    static List<String> strings(Path db, String sql) throws SQLException {
        try (Connection c = jdbc(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }
}
