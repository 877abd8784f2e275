package io.granda.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One immutable revision of a registered function.
 *
 * <p>The {@code id} and {@code routeId} are fixed when the function is created and never change across
 * revisions, so the function's URL keeps working after every update. A function deleted and created again under
 * the same name is a different function: new id, new route.
 *
 * @param id        stable internal id, also used by invocation records so billing survives deletion
 * @param name      the user's name for it
 * @param revision  1 for the first deployment, +1 on every update
 * @param routeId   the unguessable path segment of the function's URL
 * @param spec      what this revision runs
 * @param createdAt when the function (revision 1) was created
 * @param updatedAt when this revision was made
 * @param tenant    the tenant owning the function, fixed at creation (see {@link io.granda.core.access.Tenant})
 */
public record DeployedFunction(
        String id,
        String name,
        long revision,
        String routeId,
        FunctionSpec spec,
        Instant createdAt,
        Instant updatedAt,
        String tenant) {

    public DeployedFunction {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(routeId, "routeId");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        Objects.requireNonNull(tenant, "tenant");
        if (revision < 1) {
            throw new IllegalArgumentException("revision must be >= 1, was " + revision);
        }
        if (!name.equals(spec.name())) {
            throw new IllegalArgumentException("name '" + name + "' differs from spec name '" + spec.name() + "'");
        }
    }

    /** A function of the tenant {@link io.granda.core.access.Tenant#DEFAULT}. */
    public DeployedFunction(String id, String name, long revision, String routeId, FunctionSpec spec,
                            Instant createdAt, Instant updatedAt) {
        this(id, name, revision, routeId, spec, createdAt, updatedAt, io.granda.core.access.Tenant.DEFAULT);
    }

    /**
     * @param tenant a tenant, or {@code null} for every tenant
     * @return whether this function is that tenant's (always, for {@code null})
     */
    public boolean ownedBy(String tenant) {
        return tenant == null || tenant.equals(this.tenant);
    }
}
