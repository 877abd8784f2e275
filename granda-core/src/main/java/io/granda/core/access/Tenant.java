package io.granda.core.access;

import io.granda.core.InvalidFunctionSpecException;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A tenant: the owner of functions and API keys, and the unit usage is billed to. An immutable value.
 *
 * <p>Every function belongs to exactly one tenant, fixed when it is created. The tenant {@value #DEFAULT} always
 * exists: functions made before tenants existed, and functions deployed in code without naming one, belong to it.
 *
 * @param id        the tenant's name, see {@link #ID_PATTERN}
 * @param createdAt when it was created
 */
public record Tenant(String id, Instant createdAt) {

    /** The tenant that always exists. */
    public static final String DEFAULT = "default";

    /** A DNS label, like function names: 1 to 63 lowercase letters, digits and '-', starting with a letter. */
    public static final Pattern ID_PATTERN = Pattern.compile("[a-z]([a-z0-9-]{0,61}[a-z0-9])?");

    public Tenant {
        checkId(id);
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /**
     * @param id a tenant id to check
     * @return the id
     * @throws InvalidFunctionSpecException (field {@code tenant}) when it does not match {@link #ID_PATTERN}
     */
    public static String checkId(String id) {
        if (id == null || !ID_PATTERN.matcher(id).matches()) {
            throw new InvalidFunctionSpecException("tenant", "tenant '" + id + "' is invalid: use 1-63 lowercase "
                    + "letters, digits and '-', starting with a letter and not ending with '-'");
        }
        return id;
    }
}
