package io.granda.store;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionAlreadyExistsException;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.RevisionConflictException;
import io.granda.core.StoreException;
import io.granda.core.build.FunctionSource;
import io.granda.core.Ids;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.FunctionRegistry;
import io.granda.core.spi.HealthCheck;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link FunctionRegistry} of a {@link SqliteStore}: functions, every revision of each, and their routes, in
 * the store's SQLite file. Get it from {@link SqliteStore#functions()}. Thread-safe.
 *
 * <p>Every revision is kept, immutable, for the life of the function ({@link #revisions(String)}); deleting the
 * function deletes its revisions, while its invocation records stay in the metering store. Created and updated
 * times come from the store's clock, truncated to the microsecond.
 */
public final class SqliteFunctionRegistry implements FunctionRegistry, HealthCheck {

    private final SqliteStore store;
    private final Clock clock;

    SqliteFunctionRegistry(SqliteStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Override
    public DeployedFunction create(String tenant, FunctionSpec spec, FunctionSource source) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(spec, "spec");
        return store.write("create function " + spec.name(), h -> {
            // The writer transaction is IMMEDIATE, so nobody can create the name between this check and the insert.
            if (FunctionQueries.exists(h, spec.name())) {
                throw new FunctionAlreadyExistsException("a function named '" + spec.name() + "' already exists");
            }
            Instant now = EpochMicros.truncate(clock.instant());
            DeployedFunction created = new DeployedFunction(Ids.newTimeOrderedId(now), spec.name(), 1,
                    Ids.newRouteId(spec.name()), spec, now, now, tenant);
            FunctionQueries.insertFunction(h, created);
            if (source != null) {
                FunctionQueries.insertSource(h, created, source);
            }
            return created;
        });
    }

    @Override
    public Optional<DeployedFunction> find(String name) {
        return store.read("find function " + name, h -> FunctionQueries.findByName(h, name));
    }

    @Override
    public Optional<DeployedFunction> findByRoute(String routeId) {
        // The route is the function's secret: it stays out of messages.
        return store.read("find a function by route", h -> FunctionQueries.findByRoute(h, routeId));
    }

    @Override
    public Optional<FunctionSource> source(String functionId, long revision) {
        return store.read("read the source of a function", h -> FunctionQueries.source(h, functionId, revision));
    }

    @Override
    public List<DeployedFunction> list() {
        return store.read("list functions", FunctionQueries::list);
    }

    /**
     * Every revision of a function, oldest first; the last is the current one.
     *
     * @param name a function name
     * @return the revisions, empty when there is no such function
     * @throws StoreException when SQLite fails
     */
    public List<DeployedFunction> revisions(String name) {
        return store.read("list revisions of function " + name, h -> FunctionQueries.revisions(h, name));
    }

    @Override
    public DeployedFunction update(FunctionSpec spec, long expectedRevision, FunctionSource source) {
        Objects.requireNonNull(spec, "spec");
        return store.write("update function " + spec.name(), h -> {
            FunctionQueries.Head head = FunctionQueries.head(h, spec.name()).orElseThrow(
                    () -> new FunctionNotFoundException("no function named '" + spec.name() + "'"));
            if (head.revision() != expectedRevision) {
                throw new RevisionConflictException("function '" + spec.name() + "' is at revision "
                        + head.revision() + ", not " + expectedRevision);
            }
            DeployedFunction next = new DeployedFunction(head.id(), spec.name(), head.revision() + 1,
                    head.routeId(), spec, head.createdAt(), EpochMicros.truncate(clock.instant()), head.tenant());
            FunctionQueries.insertNextRevision(h, next);
            if (source != null) {
                FunctionQueries.insertSource(h, next, source);
            }
            return next;
        });
    }

    @Override
    public Optional<DeployedFunction> delete(String name) {
        return store.write("delete function " + name, h -> {
            Optional<DeployedFunction> current = FunctionQueries.findByName(h, name);
            // Invocation records have no foreign key to functions, so they stay for billing.
            current.ifPresent(f -> FunctionQueries.delete(h, f.id()));
            return current;
        });
    }

    @Override
    public String toString() {
        return "SqliteFunctionRegistry[" + store.path() + "]";
    }

    @Override
    public String healthName() {
        return "store";
    }

    /** Checks that the store can still write; see {@link SqliteStore#health()}. */
    @Override
    public ComponentHealth health() {
        return store.health();
    }
}
