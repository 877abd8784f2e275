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
