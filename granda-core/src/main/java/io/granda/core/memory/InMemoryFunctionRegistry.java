package io.granda.core.memory;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionAlreadyExistsException;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.RevisionConflictException;
import io.granda.core.build.FunctionSource;
import io.granda.core.Ids;
import io.granda.core.spi.FunctionRegistry;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link FunctionRegistry} held in memory: for embedding Granda where functions are deployed by code at start-up,
 * and for tests. Nothing survives the process. Thread-safe.
 */
public final class InMemoryFunctionRegistry implements FunctionRegistry {

    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final TreeMap<String, DeployedFunction> byName = new TreeMap<>();
    private final Map<String, String> nameByRoute = new HashMap<>();
    /** Sources by "functionId@revision". */
    private final Map<String, FunctionSource> sources = new HashMap<>();

    /** A registry on the system clock. */
    public InMemoryFunctionRegistry() {
        this(Clock.systemUTC());
    }

    /** @param clock time source for created and updated times */
    public InMemoryFunctionRegistry(Clock clock) {
        this.clock = clock;
    }

    @Override
    public DeployedFunction create(String tenant, FunctionSpec spec, FunctionSource source) {
        lock.lock();
        try {
            if (byName.containsKey(spec.name())) {
                throw new FunctionAlreadyExistsException("a function named '" + spec.name() + "' already exists");
            }
            Instant now = clock.instant();
            DeployedFunction created = new DeployedFunction(Ids.newTimeOrderedId(now), spec.name(), 1,
                    Ids.newRouteId(spec.name()), spec, now, now, tenant);
            byName.put(created.name(), created);
            nameByRoute.put(created.routeId(), created.name());
            if (source != null) {
                sources.put(created.id() + "@" + created.revision(), source);
            }
            return created;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<DeployedFunction> find(String name) {
        lock.lock();
        try {
            return Optional.ofNullable(byName.get(name));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<DeployedFunction> findByRoute(String routeId) {
        lock.lock();
        try {
            String name = nameByRoute.get(routeId);
            return name == null ? Optional.empty() : Optional.ofNullable(byName.get(name));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<FunctionSource> source(String functionId, long revision) {
        lock.lock();
        try {
            return Optional.ofNullable(sources.get(functionId + "@" + revision));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<DeployedFunction> list() {
        lock.lock();
        try {
            return List.copyOf(byName.values());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public DeployedFunction update(FunctionSpec spec, long expectedRevision, FunctionSource source) {
        lock.lock();
        try {
            DeployedFunction current = byName.get(spec.name());
            if (current == null) {
                throw new FunctionNotFoundException("no function named '" + spec.name() + "'");
            }
            if (current.revision() != expectedRevision) {
                throw new RevisionConflictException("function '" + spec.name() + "' is at revision "
                        + current.revision() + ", not " + expectedRevision);
            }
            DeployedFunction next = new DeployedFunction(current.id(), current.name(), current.revision() + 1,
                    current.routeId(), spec, current.createdAt(), clock.instant(), current.tenant());
            byName.put(next.name(), next);
            if (source != null) {
                sources.put(next.id() + "@" + next.revision(), source);
            }
            return next;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<DeployedFunction> delete(String name) {
        lock.lock();
        try {
            DeployedFunction removed = byName.remove(name);
            if (removed != null) {
                nameByRoute.remove(removed.routeId());
                sources.keySet().removeIf(key -> key.startsWith(removed.id() + "@"));
            }
            return Optional.ofNullable(removed);
        } finally {
            lock.unlock();
        }
    }
}
