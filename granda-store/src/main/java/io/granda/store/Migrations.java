package io.granda.store;

import io.granda.core.StoreException;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Brings a database's schema up to the version this build knows, one numbered SQL script at a time. Not API.
 *
 * <p>Scripts live beside this class under {@code migrations/} and are named {@code V<n>__<what>.sql}; they are
 * listed in {@link #SCRIPTS} because a classpath directory cannot be listed reliably from inside a jar. A script is
 * never edited once released: a change to the schema is a new script. Applied versions are recorded in the
 * {@code schema_version} table.
 */
final class Migrations {

    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

    /** Every migration, oldest first. Add a line here with every new script. */
    static final List<String> SCRIPTS = List.of("V1__init.sql", "V2__hot_functions.sql",
            "V3__function_sources.sql", "V4__usage_aggregates.sql", "V5__invocations_by_id.sql",
            "V6__async_events.sql");

    private static final Pattern SCRIPT_NAME = Pattern.compile("V([1-9][0-9]*)__[a-z0-9_]+\\.sql");

    private Migrations() {
    }

    /** @return the schema version this build creates and understands */
    static int latestVersion() {
        return SCRIPTS.size();
    }

    /**
     * Applies every migration the database lacks, in order, in one transaction on {@code writer}: the schema moves
     * to {@link #latestVersion()} or not at all. The transaction is IMMEDIATE (see the writer's configuration), so
     * two processes opening a new file at once cannot both migrate it.
     *
     * @param writer the store's write connection, not in a transaction
     * @param file   the database file, for messages
     * @param clock  the time recorded for each migration
     * @return the versions applied now; empty when the schema was already current
     * @throws StoreException when the database was written by a newer Granda, or a script fails
     */
    static List<Integer> migrate(Handle writer, Path file, Clock clock) {
        return writer.inTransaction(h -> {
            h.execute("""
                    CREATE TABLE IF NOT EXISTS schema_version (
                        version       INTEGER NOT NULL PRIMARY KEY,
                        script        TEXT    NOT NULL,
                        applied_at_us INTEGER NOT NULL
                    ) STRICT""");
            List<Integer> present = h.createQuery("SELECT version FROM schema_version ORDER BY version")
                    .mapTo(Integer.class).list();
            int current = present.isEmpty() ? 0 : present.getLast();
            if (current > latestVersion()) {
                throw new StoreException("database " + file + " is at schema version " + current
                        + ", but this Granda knows versions up to " + latestVersion()
                        + ": it was written by a newer Granda. Run that version or newer, or use another file; "
                        + "nothing was changed.");
            }
            for (int i = 0; i < present.size(); i++) {
                if (present.get(i) != i + 1) {
                    throw new StoreException("database " + file + " has an inconsistent schema_version table "
                            + present + " (expected 1.." + current + "); refusing to migrate it");
                }
            }
            List<Integer> applied = new ArrayList<>();
            for (int version = current + 1; version <= latestVersion(); version++) {
                String script = SCRIPTS.get(version - 1);
                executeScript(h, script, load(script));
                h.createUpdate("INSERT INTO schema_version (version, script, applied_at_us) VALUES (:v, :s, :t)")
                        .bind("v", version).bind("s", script).bind("t", EpochMicros.of(clock.instant()))
                        .execute();
                LOG.atInfo().addKeyValue("path", file).addKeyValue("version", version).addKeyValue("script", script)
                        .log("applied schema migration");
                applied.add(version);
            }
            return applied;
        });
    }

    private static void executeScript(Handle h, String name, String sql) {
        // SQLite parses the script itself (sqlite3_exec through executeUpdate), so comments, quotes and
        // semicolons inside them need no splitting rules of ours.
        try (Statement statement = h.getConnection().createStatement()) {
            statement.executeUpdate(sql);
        } catch (SQLException e) {
            throw new StoreException("schema migration " + name + " failed: " + e.getMessage(), e);
        }
    }

    private static String load(String script) {
        Matcher m = SCRIPT_NAME.matcher(script);
        if (!m.matches()) {
            throw new IllegalStateException("migration script name " + script + " does not match V<n>__<what>.sql");
        }
        try (InputStream in = Migrations.class.getResourceAsStream("migrations/" + script)) {
            if (in == null) {
                throw new IllegalStateException("migration script " + script + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StoreException("could not read migration script " + script, e);
        }
    }

    static {
        for (int i = 0; i < SCRIPTS.size(); i++) {
            Matcher m = SCRIPT_NAME.matcher(SCRIPTS.get(i));
            if (!m.matches() || Integer.parseInt(m.group(1)) != i + 1) {
                throw new IllegalStateException("migration " + SCRIPTS.get(i) + " is listed at position " + (i + 1)
                        + "; scripts must be named V1__..., V2__... in order");
            }
        }
    }
}
