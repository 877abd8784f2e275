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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Brings a database's schema up to the version this build knows, one numbered SQL script at a time. Not API.
 *
 * <p>Scripts live beside this class under {@code migrations/} and are named {@code V<n>__<what>.sql}; they are
 * listed in {@link #SCRIPTS} because a classpath directory cannot be listed reliably from inside a jar. A script is
 * never edited once released: a change to the schema is a new script. Applied versions are recorded, with the
 * script's name, in the {@code schema_version} table.
 *
 * <p><b>Gaps.</b> Versions need not be consecutive: two changes developed side by side each take a number, and a
 * build may carry one without the other (V7 without V6). Every known script the file lacks is applied, in order of
 * version, even one numbered below a version the file already has (a file migrated to V7 by a build that lacked V6
 * gets V6 from a build that has both; a warning says so). Such scripts must therefore not depend on each other. A
 * file holding a version this build does not know, or a known version under another script's name, was written by
 * another build and is refused.
 */
final class Migrations {

    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

    /** Every migration, by increasing version. Add a line here with every new script. */
    static final List<String> SCRIPTS = List.of("V1__init.sql", "V2__hot_functions.sql",
            "V3__function_sources.sql", "V4__usage_aggregates.sql", "V5__invocations_by_id.sql",
            "V6__async_events.sql", "V7__tenants_and_keys.sql", "V8__key_expiry_and_tenant_deletion.sql",
            "V9__async_events_by_status.sql", "V10__reader_keys.sql", "V11__invoker_keys.sql");

    private static final Pattern SCRIPT_NAME = Pattern.compile("V([1-9][0-9]*)__[a-z0-9_]+\\.sql");

    /** Script name by version, in order. */
    private static final SortedMap<Integer, String> BY_VERSION = index(SCRIPTS);

    private Migrations() {
    }

    /** @return the highest schema version this build creates and understands */
    static int latestVersion() {
        return BY_VERSION.lastKey();
    }

    /** @return every version this build knows, ascending */
    static List<Integer> versions() {
        return List.copyOf(BY_VERSION.keySet());
    }

    /** @return the script of a version this build knows */
    static String script(int version) {
        String script = BY_VERSION.get(version);
        if (script == null) {
            throw new IllegalArgumentException("no migration has version " + version);
        }
        return script;
    }

    /**
     * Applies every migration the database lacks, in order of version, in one transaction on {@code writer}: the
     * schema moves to every version this build knows, or not at all. The transaction is IMMEDIATE (see the writer's
     * configuration), so two processes opening a new file at once cannot both migrate it.
     *
     * @param writer the store's write connection, not in a transaction
     * @param file   the database file, for messages
     * @param clock  the time recorded for each migration
     * @return the versions applied now; empty when the schema was already current
     * @throws StoreException when the database was written by a newer or another Granda, or a script fails
     */
    static List<Integer> migrate(Handle writer, Path file, Clock clock) {
        return writer.inTransaction(h -> {
            h.execute("""
                    CREATE TABLE IF NOT EXISTS schema_version (
                        version       INTEGER NOT NULL PRIMARY KEY,
                        script        TEXT    NOT NULL,
                        applied_at_us INTEGER NOT NULL
                    ) STRICT""");
            SortedMap<Integer, String> present = new TreeMap<>();
            h.createQuery("SELECT version, script FROM schema_version ORDER BY version")
                    .map((rs, ctx) -> Map.entry(rs.getInt("version"), rs.getString("script")))
                    .forEach(e -> present.put(e.getKey(), e.getValue()));
            int current = present.isEmpty() ? 0 : present.lastKey();
            if (current > latestVersion()) {
                throw new StoreException("database " + file + " is at schema version " + current
                        + ", but this Granda knows versions up to " + latestVersion()
                        + ": it was written by a newer Granda. Run that version or newer, or use another file; "
                        + "nothing was changed.");
            }
            for (Map.Entry<Integer, String> e : present.entrySet()) {
                String ours = BY_VERSION.get(e.getKey());
                if (!e.getValue().equals(ours)) {
                    throw new StoreException("database " + file + " has schema version " + e.getKey() + " from script "
                            + e.getValue() + ", which this Granda " + (ours == null ? "does not know"
                            : "knows as " + ours) + ": it was written by another build of Granda; refusing to "
                            + "migrate it");
                }
            }
            List<Integer> applied = new ArrayList<>();
            for (Map.Entry<Integer, String> e : BY_VERSION.entrySet()) {
                int version = e.getKey();
                if (present.containsKey(version)) {
                    continue;
                }
                String script = e.getValue();
                if (version < current) {
                    LOG.atWarn().addKeyValue("path", file).addKeyValue("version", version)
                            .addKeyValue("after", current).log("applying a schema migration out of order");
                }
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

    /** @throws IllegalStateException when a name is malformed or the versions do not increase */
    private static SortedMap<Integer, String> index(List<String> scripts) {
        SortedMap<Integer, String> out = new TreeMap<>();
        int previous = 0;
        for (String script : scripts) {
            Matcher m = SCRIPT_NAME.matcher(script);
            if (!m.matches()) {
                throw new IllegalStateException("migration script name " + script + " does not match V<n>__<what>.sql");
            }
            int version = Integer.parseInt(m.group(1));
            if (version <= previous) {
                throw new IllegalStateException("migration " + script + " is listed after version " + previous
                        + "; list scripts by increasing version");
            }
            out.put(version, script);
            previous = version;
        }
        return Collections.unmodifiableSortedMap(out);
    }
}
