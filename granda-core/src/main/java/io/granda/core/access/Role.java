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
    READER,
    /**
     * One tenant, calls only: calls its own tenant's private functions at their URLs — every one of them, or only
     * those its key names ({@link ApiKey#functions()}) — and asks who it is; nothing of the management API, not even
     * to look. For an application that needs to call a private function and nothing more (least privilege).
     */
    INVOKER
}
