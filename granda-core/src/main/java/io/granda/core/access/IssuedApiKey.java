package io.granda.core.access;

import java.util.Objects;

/**
 * A key just made: the only moment its secret exists outside the caller's hands. Granda keeps only its hash, so
 * show {@link #token()} to its owner once and drop it. An immutable value; its {@link #toString()} leaves the secret
 * out, so logging it by mistake does not leak it.
 *
 * @param key   what Granda keeps
 * @param token the whole key to send as {@code Authorization: Bearer <token>}
 */
public record IssuedApiKey(ApiKey key, String token) {

    public IssuedApiKey {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(token, "token");
    }

    @Override
    public String toString() {
        return "IssuedApiKey[" + key + ", token=gk_" + key.keyId() + "_<hidden>]";
    }
}
