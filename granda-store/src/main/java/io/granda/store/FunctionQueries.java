package io.granda.store;

import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionSpec;
import io.granda.core.ScalingPolicy;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.SourceFile;
import io.granda.core.StoreException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The SQL of the function registry, run on whatever connection the caller holds. Not API; stateless.
 *
 * <p>A function is read in one statement (function, revision and environment joined, one row per environment
 * variable), so a read on a reader connection sees one consistent snapshot without an explicit transaction.
 */
final class FunctionQueries {

    /** One row per environment variable (or one row with null env columns when there are none). */
    private static final String SELECT_FUNCTIONS = """
            SELECT f.id, f.name, f.route_id, f.created_at_us, f.tenant,
                   r.revision, r.description, r.image, r.mode, r.timeout_seconds, r.timeout_nanos, r.memory_mb,
                   r.keep_alive_ms, r.min_instances, r.max_instances, r.concurrency, r.runtime, r.is_private,
                   r.made_at_us, e.name AS env_name, e.value AS env_value
            FROM functions f
            JOIN function_revisions r ON r.function_id = f.id AND %s
            LEFT JOIN function_env e ON e.function_id = r.function_id AND e.revision = r.revision
            """;
    private static final String CURRENT_REVISION = SELECT_FUNCTIONS.formatted("r.revision = f.revision");
    private static final String EVERY_REVISION = SELECT_FUNCTIONS.formatted("1 = 1");

    private FunctionQueries() {
    }

    static Optional<DeployedFunction> findByName(Handle h, String name) {
        return single(query(h, CURRENT_REVISION + "WHERE f.name = :key ORDER BY e.position", name));
    }

    static Optional<DeployedFunction> findByRoute(Handle h, String routeId) {
        return single(query(h, CURRENT_REVISION + "WHERE f.route_id = :key ORDER BY e.position", routeId));
    }

    static List<DeployedFunction> list(Handle h) {
        // BINARY collation compares UTF-8 bytes, which orders the ASCII names Granda allows as String does.
        return query(h, CURRENT_REVISION + "ORDER BY f.name, e.position", null);
    }

    static List<DeployedFunction> revisions(Handle h, String name) {
        return query(h, EVERY_REVISION + "WHERE f.name = :key ORDER BY r.revision, e.position", name);
    }

    /** The few columns an update needs, without the spec. */
    record Head(String id, long revision, String routeId, Instant createdAt, String tenant) {
    }

    static Optional<Head> head(Handle h, String name) {
        return h.createQuery("SELECT id, revision, route_id, created_at_us, tenant FROM functions WHERE name = :name")
                .bind("name", name)
                .map((rs, ctx) -> new Head(rs.getString("id"), rs.getLong("revision"), rs.getString("route_id"),
                        EpochMicros.toInstant(rs.getLong("created_at_us")), rs.getString("tenant")))
                .findOne();
    }

    static boolean exists(Handle h, String name) {
        return h.createQuery("SELECT 1 FROM functions WHERE name = :name").bind("name", name)
                .mapTo(Integer.class).findOne().isPresent();
    }

    /** Inserts a new function with its first revision. */
    static void insertFunction(Handle h, DeployedFunction f) {
        h.createUpdate("""
                        INSERT INTO functions (id, name, route_id, revision, created_at_us, updated_at_us, tenant)
                        VALUES (:id, :name, :route, :revision, :created, :updated, :tenant)""")
                .bind("id", f.id()).bind("name", f.name()).bind("route", f.routeId()).bind("revision", f.revision())
                .bind("tenant", f.tenant())
                .bind("created", EpochMicros.of(f.createdAt())).bind("updated", EpochMicros.of(f.updatedAt()))
                .execute();
        insertRevision(h, f);
    }

    /** Adds a revision of an existing function and makes it current. */
    static void insertNextRevision(Handle h, DeployedFunction f) {
        insertRevision(h, f);
        h.createUpdate("UPDATE functions SET revision = :revision, updated_at_us = :updated WHERE id = :id")
                .bind("revision", f.revision()).bind("updated", EpochMicros.of(f.updatedAt())).bind("id", f.id())
                .execute();
    }

    /** Stores the files a revision was built from. */
    static void insertSource(Handle h, DeployedFunction f, FunctionSource source) {
        PreparedBatch batch = h.prepareBatch("""
                INSERT INTO function_source_files (function_id, revision, path, content)
                VALUES (:id, :revision, :path, :content)""");
        for (SourceFile file : source.files()) {
            batch.bind("id", f.id()).bind("revision", f.revision()).bind("path", file.path())
                    .bind("content", file.content()).add();
        }
        batch.execute();
    }

    /** @return the files a revision was built from, with its runtime; empty for an image or an unknown revision */
    static Optional<FunctionSource> source(Handle h, String functionId, long revision) {
        Optional<String> runtime = h.createQuery("""
                        SELECT runtime FROM function_revisions WHERE function_id = :id AND revision = :revision""")
                .bind("id", functionId).bind("revision", revision).mapTo(String.class).findOne();
        if (runtime.isEmpty() || runtime.get().isEmpty()) {
            return Optional.empty();
        }
        List<SourceFile> files = h.createQuery("""
                        SELECT path, content FROM function_source_files
                        WHERE function_id = :id AND revision = :revision ORDER BY path""")
                .bind("id", functionId).bind("revision", revision)
                .map((rs, ctx) -> new SourceFile(rs.getString("path"), rs.getBytes("content")))
                .list();
        return Optional.of(new FunctionSource(runtime.get(), files));
    }

    /** Deletes a function; its revisions and their environments go with it (ON DELETE CASCADE). */
    static void delete(Handle h, String id) {
        h.createUpdate("DELETE FROM functions WHERE id = :id").bind("id", id).execute();
    }

    private static void insertRevision(Handle h, DeployedFunction f) {
        FunctionSpec s = f.spec();
        h.createUpdate("""
                        INSERT INTO function_revisions (function_id, revision, name, description, image, mode,
                            timeout_seconds, timeout_nanos, memory_mb, keep_alive_ms, min_instances, max_instances,
                            concurrency, runtime, is_private, made_at_us)
                        VALUES (:id, :revision, :name, :description, :image, :mode, :seconds, :nanos, :memory,
                            :keepAlive, :minInstances, :maxInstances, :concurrency, :runtime, :private, :made)""")
                .bind("id", f.id()).bind("revision", f.revision()).bind("name", s.name())
                .bind("description", s.description()).bind("image", s.image()).bind("mode", s.mode().name())
                .bind("seconds", s.timeout().getSeconds()).bind("nanos", s.timeout().getNano())
                .bind("memory", s.memoryMb())
                .bind("keepAlive", s.scaling().keepAlive().toMillis())
                .bind("minInstances", s.scaling().minInstances())
                .bind("maxInstances", s.scaling().maxInstances())
                .bind("concurrency", s.scaling().concurrency())
                .bind("runtime", s.runtime())
                .bind("private", s.isPrivate() ? 1 : 0)
                .bind("made", EpochMicros.of(f.updatedAt()))
                .execute();
        if (s.env().isEmpty()) {
            return;
        }
        PreparedBatch env = h.prepareBatch("""
                INSERT INTO function_env (function_id, revision, position, name, value)
                VALUES (:id, :revision, :position, :name, :value)""");
        int position = 0;
        for (Map.Entry<String, String> e : s.env().entrySet()) {
            env.bind("id", f.id()).bind("revision", f.revision()).bind("position", position++)
                    .bind("name", e.getKey()).bind("value", e.getValue()).add();
        }
        env.execute();
    }

    /** One joined row: a revision's columns and at most one environment variable. */
    private record Row(String id, String name, String routeId, long createdAtUs, String tenant, long revision,
                       String description, String image, String mode, long timeoutSeconds, long timeoutNanos,
                       int memoryMb, ScalingPolicy scaling, String runtime, boolean isPrivate, long madeAtUs,
                       String envName, String envValue) {
    }

    private static List<DeployedFunction> query(Handle h, String sql, String key) {
        var query = h.createQuery(sql);
        if (key != null) {
            query.bind("key", key);
        }
        List<Row> rows = query.map((rs, ctx) -> new Row(rs.getString("id"), rs.getString("name"),
                        rs.getString("route_id"), rs.getLong("created_at_us"), rs.getString("tenant"),
                        rs.getLong("revision"),
                        rs.getString("description"), rs.getString("image"), rs.getString("mode"),
                        rs.getLong("timeout_seconds"), rs.getLong("timeout_nanos"), rs.getInt("memory_mb"),
                        new ScalingPolicy(Duration.ofMillis(rs.getLong("keep_alive_ms")), rs.getInt("min_instances"),
                                rs.getInt("max_instances"), rs.getInt("concurrency")),
                        rs.getString("runtime"), rs.getInt("is_private") != 0, rs.getLong("made_at_us"),
                        rs.getString("env_name"), rs.getString("env_value")))
                .list();
        // Rows of one revision are adjacent (ordered by name or revision, then position): fold each run.
        List<DeployedFunction> out = new ArrayList<>();
        int i = 0;
        while (i < rows.size()) {
            Row first = rows.get(i);
            Map<String, String> env = new LinkedHashMap<>();
            while (i < rows.size() && rows.get(i).id().equals(first.id()) && rows.get(i).revision() == first.revision()) {
                Row r = rows.get(i++);
                if (r.envName() != null) {
                    env.put(r.envName(), r.envValue());
                }
            }
            out.add(toFunction(first, env));
        }
        return out;
    }

    private static DeployedFunction toFunction(Row r, Map<String, String> env) {
        ExecutionMode mode;
        try {
            mode = ExecutionMode.valueOf(r.mode());
        } catch (IllegalArgumentException e) {
            throw new StoreException("function " + r.name() + " revision " + r.revision() + " has execution mode '"
                    + r.mode() + "', which this Granda does not know");
        }
        FunctionSpec spec = new FunctionSpec(r.name(), r.description(), r.image(), mode,
                Duration.ofSeconds(r.timeoutSeconds(), r.timeoutNanos()), r.memoryMb(), env, r.scaling(), r.runtime(),
                r.isPrivate());
        return new DeployedFunction(r.id(), r.name(), r.revision(), r.routeId(), spec,
                EpochMicros.toInstant(r.createdAtUs()), EpochMicros.toInstant(r.madeAtUs()), r.tenant());
    }

    private static Optional<DeployedFunction> single(List<DeployedFunction> found) {
        // name and route_id are UNIQUE, so there is at most one.
        return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst());
    }
}
