package io.granda.core.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The form of API keys, and how they are made, hashed and checked. Thread-safe, stateless.
 *
 * <p>A key is {@code gk_<keyId>_<secret>}: the prefix makes a leaked key recognisable (secret scanners, logs); the
 * key id is public and says which stored key to compare with, so a check is one lookup, never a scan; the secret
 * is 32 Crockford base32 characters, 160 bits from {@link SecureRandom}. An operator may also choose a key (e.g.
 * {@code gk_ops_$(openssl rand -hex 32)}): its id is 4 to 32 lowercase letters and digits, its secret 32 to 128
 * letters and digits.
 *
 * <p>Only the SHA-256 of the whole key is stored. A plain, fast hash is enough because the secret is random and
 * long: a slow password hash (bcrypt, Argon2) exists to make guessing low-entropy passwords expensive, and 2^160
 * guesses stay out of reach at any speed, while a slow hash would cost milliseconds of CPU on every API call. A
 * keyed hash (HMAC with a server secret) would help only if the database leaked without that secret, and the secret
 * would have to live beside the database. The comparison of hashes takes the same time whatever the input
 * ({@link MessageDigest#isEqual}), so response times tell an attacker nothing about a stored hash.
 */
public final class ApiKeyTokens {

    /** Every key starts with this. */
    public static final String PREFIX = "gk_";
    /** A key id: 4 to 32 lowercase letters and digits. */
    public static final Pattern KEY_ID = Pattern.compile("[0-9a-z]{4,32}");
    private static final Pattern TOKEN = Pattern.compile("gk_([0-9a-z]{4,32})_([0-9A-Za-z]{32,128})");
    private static final char[] CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    /** 12 base32 characters: 60 bits, so that two generated ids practically never meet. */
    private static final int KEY_ID_CHARS = 12;
    /** 32 base32 characters: 160 bits. */
    private static final int SECRET_CHARS = 32;

    private ApiKeyTokens() {
    }

    /** @return a new random key id */
    public static String newKeyId() {
        return random(KEY_ID_CHARS);
    }

    /**
     * @param keyId the key's id
     * @return a whole new key for that id, with a new random secret
     */
    public static String newToken(String keyId) {
        if (!KEY_ID.matcher(keyId).matches()) {
            throw new IllegalArgumentException("key id '" + keyId + "' is invalid");
        }
        return PREFIX + keyId + "_" + random(SECRET_CHARS);
    }

    /**
     * @param token what a caller sent
     * @return its key id when it has the form of a key, else empty
     */
    public static Optional<String> keyIdOf(String token) {
        if (token == null || token.length() > 3 + 32 + 1 + 128) {
            return Optional.empty();
        }
        Matcher m = TOKEN.matcher(token);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** @return whether the text has the form of a key */
    public static boolean isToken(String token) {
        return keyIdOf(token).isPresent();
    }

    /**
     * @param token a whole key
     * @return the SHA-256 of its UTF-8 bytes, in lowercase hex: what is stored
     */
    public static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * @param token      what a caller sent
     * @param storedHash the stored hash of a key
     * @return whether the token is that key, compared in time independent of where they differ
     */
    public static boolean matches(String token, String storedHash) {
        byte[] presented = hash(token).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(presented, storedHash.getBytes(StandardCharsets.US_ASCII));
    }

    private static String random(int chars) {
        char[] out = new char[chars];
        for (int i = 0; i < chars; i++) {
            out[i] = CROCKFORD[RANDOM.nextInt(32)];
        }
        return new String(out);
    }
}
