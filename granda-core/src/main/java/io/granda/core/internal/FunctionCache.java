package io.granda.core.internal;

import io.granda.core.DeployedFunction;
import io.granda.core.spi.FunctionRegistry;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The current revision of each function by name and by route, so that a call does not read the store: a warm call
 * must cost well under a millisecond, and a SQLite read alone is tens of microseconds. Not API. Thread-safe.
 *
 * <p>Coherent because every change to the registry in this process goes through the facade, which tells the cache
 * ({@link #put}, {@link #remove}); a fill from the registry never replaces a newer revision, and never brings back a
 * deleted function (deleted ids are remembered; a re-created function has a new id).
 */
public final class FunctionCache {

    private final FunctionRegistry registry;
    private final ConcurrentHashMap<String, DeployedFunction> byName = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, DeployedFunction> byRoute = new ConcurrentHashMap<>();
    private final Set<String> deletedIds = ConcurrentHashMap.newKeySet();

    /** @param registry where functions are when they are not cached */
    public FunctionCache(FunctionRegistry registry) {
        this.registry = registry;
    }

    /** @return the function of that name, from the cache or else the registry */
    public Optional<DeployedFunction> byName(String name) {
        DeployedFunction f = byName.get(name);
        if (f != null) {
            return Optional.of(f);
        }
        return registry.find(name).map(this::fill);
    }

    /** @return the function owning that route, from the cache or else the registry */
    public Optional<DeployedFunction> byRoute(String routeId) {
        DeployedFunction f = byRoute.get(routeId);
        if (f != null) {
            return Optional.of(f);
        }
        return registry.findByRoute(routeId).map(this::fill);
    }

    private DeployedFunction fill(DeployedFunction f) {
        if (deletedIds.contains(f.id())) {
            return f; // read just before its deletion: answer, but do not cache
        }
        put(f);
        return f;
    }

    /** Records a function's newest revision (after a deploy or an update). */
    public void put(DeployedFunction f) {
        byName.merge(f.name(), f, FunctionCache::newer);
        byRoute.merge(f.routeId(), f, FunctionCache::newer);
    }

    private static DeployedFunction newer(DeployedFunction a, DeployedFunction b) {
        if (!a.id().equals(b.id())) {
            return b; // a re-created function replaces the old one under its name
        }
        return a.revision() >= b.revision() ? a : b;
    }

    /** @return true when the function with that id was deleted in this process */
    public boolean isDeleted(String id) {
        return deletedIds.contains(id);
    }

    /** Forgets a deleted function for good. */
    public void remove(DeployedFunction f) {
        deletedIds.add(f.id());
        byName.computeIfPresent(f.name(), (name, cached) -> cached.id().equals(f.id()) ? null : cached);
        byRoute.remove(f.routeId());
    }
}
