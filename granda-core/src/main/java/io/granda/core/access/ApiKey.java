package io.granda.core.access;

import java.time.Instant;
import java.util.Objects;
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
 */
public record ApiKey(String keyId, String tenant, Role role, String name, String secretHash, Instant createdAt,
                     Instant revokedAt, Instant expiresAt) {

    /** Longest {@link #name()}. */
    public static final int MAX_NAME_LENGTH = 100;
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
    }

    /** A key that never expires. */
    public ApiKey(String keyId, String tenant, Role role, String name, String secretHash, Instant createdAt,
                  Instant revokedAt) {
        this(keyId, tenant, role, name, secretHash, createdAt, revokedAt, null);
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
        return revoked() ? this : new ApiKey(keyId, tenant, role, name, secretHash, createdAt, at, expiresAt);
    }

    /** The hash is of a high-entropy secret, but there is still no reason to print it. */
    @Override
    public String toString() {
        return "ApiKey[" + keyId + ", tenant=" + tenant + ", role=" + role + ", name=" + name + ", createdAt="
                + createdAt + (revoked() ? ", revokedAt=" + revokedAt : "")
                + (expiresAt != null ? ", expiresAt=" + expiresAt : "") + "]";
    }
}
