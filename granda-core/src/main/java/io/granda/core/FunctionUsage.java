package io.granda.core;

import java.util.Objects;

/**
 * One function's usage in a window: an immutable value.
 *
 * @param tenant       the function's tenant
 * @param functionId   the function's stable id (records outlive a deleted function; the id stays unique)
 * @param functionName the name its calls in the window were made under (the latest, if it changed)
 * @param usage        the totals
 */
public record FunctionUsage(String tenant, String functionId, String functionName, UsageSummary usage) {

    public FunctionUsage {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(functionId, "functionId");
        Objects.requireNonNull(functionName, "functionName");
        Objects.requireNonNull(usage, "usage");
    }
}
