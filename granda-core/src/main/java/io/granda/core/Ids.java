package io.granda.core;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Makes the ids Granda hands out, for Granda itself and for registry implementations, which give every new
 * function its ids with it. Thread-safe.
 *
 * <p>Invocation and function ids are time-ordered (48 bits of milliseconds, then 80 random bits, in Crockford
 * base32, like a ULID) so that records sort by creation and indexes stay append-friendly. They need to be unique, not
 * secret, so their random bits come from {@link ThreadLocalRandom}: a {@link SecureRandom} shared by every call
 * would be a point of contention on the invoke path. Route ids carry 120 bits from {@link SecureRandom}: the URL is
 * the function's secret, as it was in the original Granda, so it must not be guessable.
 */
public final class Ids {

    private static final char[] CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    /** 24 base32 characters = 120 random bits. */
    private static final int ROUTE_SECRET_CHARS = 24;

    private Ids() {
    }

    /**
     * @param now the current time
     * @return a new 26-character, time-ordered, lowercase id
     */
    public static String newTimeOrderedId(Instant now) {
        char[] out = new char[26];
        long millis = now.toEpochMilli();
        // 48-bit timestamp -> 10 chars (50 bits, top 2 zero).
        for (int i = 9; i >= 0; i--) {
            out[i] = CROCKFORD[(int) (millis & 31)];
            millis >>>= 5;
        }
        byte[] random = new byte[10];
        ThreadLocalRandom.current().nextBytes(random);
        encode(random, out, 10, 16);
        return new String(out);
    }

    /**
     * @param functionName the function's name, kept in the route so a URL says what it calls
     * @return a route id of the form {@code name-<24 random base32 chars>}
     */
    public static String newRouteId(String functionName) {
        byte[] random = new byte[15];
        RANDOM.nextBytes(random);
        char[] secret = new char[ROUTE_SECRET_CHARS];
        encode(random, secret, 0, ROUTE_SECRET_CHARS);
        return functionName + "-" + new String(secret);
    }

    private static void encode(byte[] bytes, char[] out, int offset, int chars) {
        int buffer = 0;
        int bits = 0;
        int index = 0;
        int pos = offset;
        while (pos < offset + chars) {
            if (bits < 5) {
                buffer = (buffer << 8) | (index < bytes.length ? bytes[index++] & 0xff : 0);
                bits += 8;
            }
            out[pos++] = CROCKFORD[(buffer >>> (bits - 5)) & 31];
            bits -= 5;
        }
    }
}
