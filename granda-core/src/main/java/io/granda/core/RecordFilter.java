package io.granda.core;

import java.time.Instant;
import java.util.Objects;

/**
 * Which invocation records a usage query or an export covers: an immutable value. A record is in when its start lies
 * in {@code [since, until)} and it matches the tenant and function when they are given.
 *
 * @param tenant     a tenant, or {@code null} for every tenant
 * @param functionId a function's stable id, or {@code null} for every function (of the tenant)
 * @param since      inclusive lower bound on the call's start
 * @param until      exclusive upper bound on the call's start
 */
public record RecordFilter(String tenant, String functionId, Instant since, Instant until) {

    public RecordFilter {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(until, "until");
        if (until.isBefore(since)) {
            throw new IllegalArgumentException("until " + until + " is before since " + since);
        }
    }

    /** @return every record of every tenant that started in {@code [since, until)} */
    public static RecordFilter all(Instant since, Instant until) {
        return new RecordFilter(null, null, since, until);
    }

    /**
     * @param r a record
     * @return whether the filter covers it
     */
    public boolean matches(InvocationRecord r) {
        return (tenant == null || tenant.equals(r.tenant()))
                && (functionId == null || functionId.equals(r.functionId()))
                && !r.start().isBefore(since) && r.start().isBefore(until);
    }
}
