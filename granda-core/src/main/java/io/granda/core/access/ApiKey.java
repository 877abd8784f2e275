package io.granda.core.access;

import io.granda.core.FunctionLimits;
import io.granda.core.InvalidFunctionSpecException;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An API key as Granda keeps it: who it is for and what it may do, and the SHA-256 of the key, never the key
 * itself. An immutable value.
 *
 * @param keyId      the key's public id, also the middle part of the key ({@code gk_<keyId>_<secret>})
 * @param tenant     the tenant the key acts for
 * @param role       what it may do
 * @param name       a label its creator gave it (e.g. {@code ci}), may be empty
 * @param secretHash the SHA-256 of the whole key, in lowercase hex (see {@link ApiKeyTokens#hash(String)})
 * @param createdAt  when it was made
 * @param revokedAt  when it was revoked; {@code null} until it is
 * @param expiresAt  the first instant it is refused at; {@code null} when it never expires
 * @param functions  for an {@link Role#INVOKER} key, the names of the only functions of its tenant it may call, in
 *                   the order given (1 to {@link #MAX_FUNCTIONS} distinct valid function names, which need not exist
 *                   yet); {@code null} for no such list: an invoker key without one calls every private function of
 *                   its tenant, and keys of the other roles never have one
 */
public record ApiKey(String keyId, String tenant, Role role, String name, String secretHash, Instant createdAt,
                     Instant revokedAt, Instant expiresAt, List<String> functions) {

    /** Longest {@link #name()}. */
    public static final int MAX_NAME_LENGTH = 100;
    /** Most names in {@link #functions()}: a key that needs more calls its whole tenant, or is several keys. */
    public static final int MAX_FUNCTIONS = 100;
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    public ApiKey {
        if (keyId == null || !ApiKeyTokens.KEY_ID.matcher(keyId).matches()) {
            throw new IllegalArgumentException("key id '" + keyId + "' is invalid");
        }
        Tenant.checkId(tenant);
        Objects.requireNonNull(role, "role");
        name = name == null ? "" : name;
        if (secretHash == null || !SHA256_HEX.matcher(secretHash).matches()) {
            throw new IllegalArgumentException("secretHash must be 64 lowercase hex digits");
        }
        Objects.requireNonNull(createdAt, "createdAt");
        functions = checkFunctions(role, functions);
    }

    /** A key without a list of functions (every key but a scoped {@link Role#INVOKER} one). */
    public ApiKey(String keyId, String tenant, Role role, String name, String secretHash, Instant createdAt,
                  Instant revokedAt, Instant expiresAt) {
        this(keyId, tenant, role, name, secretHash, createdAt, revokedAt, expiresAt, null);
    }

    /** A key that never expires, without a list of functions. */
    public ApiKey(String keyId, String tenant, Role role, String name, String secretHash, Instant createdAt,
                  Instant revokedAt) {
        this(keyId, tenant, role, name, secretHash, createdAt, revokedAt, null, null);
    }

    /**
     * Checks the list of functions a key of that role is to be limited to.
     *
     * @param role      the key's role
     * @param functions function names, or {@code null} for no list
     * @return an unmodifiable copy of the list, or {@code null}
     * @throws InvalidFunctionSpecException (field {@code functions}) when a list is given for a role other than
     *                                      {@link Role#INVOKER}, or is empty, longer than {@link #MAX_FUNCTIONS},
     *                                      holds a name twice or a name that is not a valid function name
     */
    public static List<String> checkFunctions(Role role, List<String> functions) {
        if (functions == null) {
            return null;
        }
        if (role != Role.INVOKER) {
            throw new InvalidFunctionSpecException("functions", "functions limits what an invoker key may call; a "
                    + String.valueOf(role).toLowerCase(Locale.ROOT) + " key has no such list (use role "
                    + "invoker, or leave functions out)");
        }
        if (functions.isEmpty() || functions.size() > MAX_FUNCTIONS) {
            throw new InvalidFunctionSpecException("functions", "functions must name 1 to " + MAX_FUNCTIONS
                    + " functions, was " + functions.size() + (functions.isEmpty() ? "; leave it out for a key that "
                    + "calls every private function of its tenant" : ""));
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < functions.size(); i++) {
            String name = functions.get(i);
            if (name == null || !FunctionLimits.NAME_PATTERN.matcher(name).matches()) {
                throw new InvalidFunctionSpecException("functions", "functions[" + i + "] "
                        + (name == null ? "is null" : "'" + abbreviate(name) + "'") + " is not a function name: use "
                        + "1-63 lowercase letters, digits and '-', starting with a letter and not ending with '-'");
            }
            if (!seen.add(name)) {
                throw new InvalidFunctionSpecException("functions", "functions lists '" + name + "' twice; name "
                        + "each function once");
            }
        }
        return List.copyOf(functions);
    }

    private static String abbreviate(String s) {
        return s.length() <= 70 ? s : s.substring(0, 67) + "...";
    }

    /**
     * Whether the key's list of functions lets it call the function of that name. Says nothing of the tenant or
     * the role: that the function is the key's tenant's, and that the role calls functions at all, is checked apart.
     *
     * @param functionName a function's name
     * @return true when the key has no list ({@link #functions()} is {@code null}) or its list names the function
     */
    public boolean inScope(String functionName) {
        return functions == null || functions.contains(functionName);
    }

    /**
     * @param now the time to judge at
     * @return whether it has expired by then: it is refused from {@link #expiresAt()} on, that instant included
     */
    public boolean expiredAt(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }

    /** @return whether it lets its holder in at that time: neither revoked nor expired */
    public boolean validAt(Instant now) {
        return !revoked() && !expiredAt(now);
    }

    /** @return whether it has been revoked */
    public boolean revoked() {
        return revokedAt != null;
    }

    /** @return this key, revoked at that time (a key already revoked keeps its first revocation time) */
    public ApiKey revokedAt(Instant at) {
        return revoked() ? this : new ApiKey(keyId, tenant, role, name, secretHash, createdAt, at, expiresAt,
                functions);
    }

    /** The hash is of a high-entropy secret, but there is still no reason to print it. */
    @Override
    public String toString() {
        return "ApiKey[" + keyId + ", tenant=" + tenant + ", role=" + role + ", name=" + name + ", createdAt="
                + createdAt + (revoked() ? ", revokedAt=" + revokedAt : "")
                + (expiresAt != null ? ", expiresAt=" + expiresAt : "")
                + (functions != null ? ", functions=" + functions : "") + "]";
    }
}
