package io.granda.core.spi;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionAlreadyExistsException;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.RevisionConflictException;
import io.granda.core.StoreException;
import io.granda.core.build.FunctionSource;

import java.util.List;
import java.util.Optional;

/**
 * Where functions live. Every change makes a new immutable revision; the function's id and route stay the same
 * for its whole life.
 *
 * <p>Implementations must be thread-safe. Specs reach the registry already validated (see
 * {@link io.granda.core.FunctionLimits}); the registry checks only what needs its own state (uniqueness,
 * revisions). Every method may throw {@link StoreException} when the underlying storage fails; nothing is
 * half-written when it does.
 */
public interface FunctionRegistry {

    /**
     * Registers a new function of a tenant at revision 1 with a new id and a new unguessable route id (see
     * {@link io.granda.core.Ids#newRouteId(String)}), with the source it was built from, if any, in the same
     * transaction. Names are unique across tenants: the route and the original Granda API know functions by name.
     *
     * @param tenant the tenant owning the function for its whole life (see {@link io.granda.core.access.Tenant})
     * @param spec   a validated spec
     * @param source the source the function's image was built from, {@code null} for a function given as an image
     * @return the registered function
     * @throws FunctionAlreadyExistsException when a function of that name exists, whatever its tenant
     */
    DeployedFunction create(String tenant, FunctionSpec spec, FunctionSource source);

    /**
     * Registers a function of the tenant {@link io.granda.core.access.Tenant#DEFAULT}; see
     * {@link #create(String, FunctionSpec, FunctionSource)}.
     *
     * @param spec   a validated spec
     * @param source the source the function's image was built from, {@code null} for an image
     * @return the registered function
     * @throws FunctionAlreadyExistsException when a function of that name exists
     */
    default DeployedFunction create(FunctionSpec spec, FunctionSource source) {
        return create(io.granda.core.access.Tenant.DEFAULT, spec, source);
    }

    /**
     * Registers a function given as an image, of the tenant {@link io.granda.core.access.Tenant#DEFAULT}; see
     * {@link #create(String, FunctionSpec, FunctionSource)}.
     *
     * @param spec a validated spec
     * @return the registered function
     * @throws FunctionAlreadyExistsException when a function of that name exists
     */
    default DeployedFunction create(FunctionSpec spec) {
        return create(spec, null);
    }

    /**
     * The source a revision was built from.
     *
     * @param functionId the function's id
     * @param revision   one of its revisions
     * @return the source, empty for a function given as an image, or an unknown function or revision
     */
    Optional<FunctionSource> source(String functionId, long revision);

    /**
     * @param name a function name
     * @return the current revision of the function, empty when there is none
     */
    Optional<DeployedFunction> find(String name);

    /**
     * @param routeId the route segment of a function's URL
     * @return the current revision of the function owning that route, empty when none does
     */
    Optional<DeployedFunction> findByRoute(String routeId);

    /**
     * @return the current revision of every function, ordered by name
     */
    List<DeployedFunction> list();

    /**
     * Replaces a function's spec, making revision {@code expectedRevision + 1}, with the source the new revision was
     * built from, if any, in the same transaction. The name and the tenant cannot change.
     *
     * @param spec             a validated spec whose name is the function's name
     * @param expectedRevision the revision the caller last saw; guards against lost updates
     * @param source           the new revision's source, {@code null} for an image
     * @return the new revision
     * @throws FunctionNotFoundException  when no function has that name
     * @throws RevisionConflictException when the current revision is not {@code expectedRevision}
     */
    DeployedFunction update(FunctionSpec spec, long expectedRevision, FunctionSource source);

    /**
     * Replaces a function's spec with an image; see {@link #update(FunctionSpec, long, FunctionSource)}.
     *
     * @param spec             a validated spec whose name is the function's name
     * @param expectedRevision the revision the caller last saw
     * @return the new revision
     * @throws FunctionNotFoundException  when no function has that name
     * @throws RevisionConflictException when the current revision is not {@code expectedRevision}
     */
    default DeployedFunction update(FunctionSpec spec, long expectedRevision) {
        return update(spec, expectedRevision, null);
    }

    /**
     * Removes a function. Its route stops resolving at once; its invocation records are kept.
     *
     * @param name a function name
     * @return the revision that was current, empty when there was no such function
     */
    Optional<DeployedFunction> delete(String name);
}
