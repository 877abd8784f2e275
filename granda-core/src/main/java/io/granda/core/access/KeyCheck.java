package io.granda.core.access;

import java.util.Objects;
import java.util.Optional;

/**
 * What checking a key a caller sent found: {@link ApiKeys#check(String)}. An immutable value.
 *
 * <p>The stored key is given only when the caller proved to hold it (the secret matched): only then may an answer
 * say more than "not valid", e.g. when the key expired. A wrong secret tells nothing about the key of that id.
 *
 * @param result what was found
 * @param key    the stored key when the secret matched ({@link Result#VALID}, {@link Result#REVOKED},
 *               {@link Result#EXPIRED}); {@code null} otherwise
 */
public record KeyCheck(Result result, ApiKey key) {

    /** What a check found. */
    public enum Result {
        /** The key lets its holder in. */
        VALID,
        /** The text does not have the form of a key ({@code gk_<keyId>_<secret>}). */
        MALFORMED,
        /** No key of that id, or the secret does not match. */
        UNKNOWN,
        /** The key was revoked (it may have expired too). */
        REVOKED,
        /** The key expired ({@link ApiKey#expiresAt()} is not after the time of the check). */
        EXPIRED
    }

    /** A malformed key. */
    static final KeyCheck MALFORMED = new KeyCheck(Result.MALFORMED, null);
    /** An unknown key, or a wrong secret. */
    static final KeyCheck UNKNOWN = new KeyCheck(Result.UNKNOWN, null);

    public KeyCheck {
        Objects.requireNonNull(result, "result");
        boolean proven = result == Result.VALID || result == Result.REVOKED || result == Result.EXPIRED;
        if (proven != (key != null)) {
            throw new IllegalArgumentException("a " + result + " check " + (proven ? "needs" : "has no") + " key");
        }
    }

    /** @return whether the key lets its holder in */
    public boolean valid() {
        return result == Result.VALID;
    }

    /** @return the stored key when it is {@link #valid()}, else empty */
    public Optional<ApiKey> validKey() {
        return valid() ? Optional.of(key) : Optional.empty();
    }
}
