package io.granda.core.access;

import io.granda.core.GrandaException;

import java.util.List;

/**
 * A tenant cannot be deleted while it owns functions: they are deleted one by one by a user who means it, never as a
 * side effect of deleting their tenant. Nothing was changed.
 */
public class TenantHasFunctionsException extends GrandaException {

    private final String tenant;
    private final List<String> functions;

    /**
     * @param tenant    the tenant
     * @param functions the names of the functions it owns, by name
     */
    public TenantHasFunctionsException(String tenant, List<String> functions) {
        super("tenant '" + tenant + "' still owns " + functions.size() + " function"
                + (functions.size() == 1 ? "" : "s") + " (" + String.join(", ", functions)
                + "); delete them first, then the tenant");
        this.tenant = tenant;
        this.functions = List.copyOf(functions);
    }

    /** @return the tenant */
    public String tenant() {
        return tenant;
    }

    /** @return the names of the functions it owns */
    public List<String> functions() {
        return functions;
    }

    @Override
    public String code() {
        return "tenant_has_functions";
    }
}
