package io.granda.core.access;

/**
 * What an API key may do.
 */
public enum Role {
    /** The operator: every tenant's functions, usage and keys, and the tenants themselves. */
    ADMIN,
    /** One tenant: only its own functions, usage and keys. */
    TENANT,
    /**
     * One tenant, read only: looks at its own functions, usage, logs, invocations, events and keys (GET requests),
     * and changes nothing — no deploy, update, delete, key made or revoked, event sent or re-driven, and no call of a
     * private function. For dashboards, monitoring and auditors.
     */
    READER
}
