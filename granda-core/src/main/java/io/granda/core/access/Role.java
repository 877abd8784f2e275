package io.granda.core.access;

/**
 * What an API key may do.
 */
public enum Role {
    /** The operator: every tenant's functions, usage and keys, and the tenants themselves. */
    ADMIN,
    /** One tenant: only its own functions, usage and keys. */
    TENANT
}
