package io.granda.core.access;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The form of keys, their randomness and their hash. */
class ApiKeyTokensTest {

    private static final Pattern GENERATED = Pattern.compile("gk_[0-9a-hjkmnp-tv-z]{12}_[0-9a-hjkmnp-tv-z]{32}");

    @Test
    void aNewKeyIsPrefixedCarriesItsIdAnd160RandomBits() {
        String keyId = ApiKeyTokens.newKeyId();
        String token = ApiKeyTokens.newToken(keyId);

        assertTrue(GENERATED.matcher(token).matches(), token);
        assertTrue(token.startsWith("gk_" + keyId + "_"), token);
        assertEquals(Optional.of(keyId), ApiKeyTokens.keyIdOf(token));
        // 32 characters of a 32-letter alphabet: 5 bits each.
        assertEquals(32 * 5, (token.length() - token.lastIndexOf('_') - 1) * 5);
    }

    @Test
    void keysAndIdsDoNotRepeat() {
        Set<String> ids = new HashSet<>();
        Set<String> secrets = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String token = ApiKeyTokens.newToken(ApiKeyTokens.newKeyId());
            assertTrue(ids.add(ApiKeyTokens.keyIdOf(token).orElseThrow()));
            assertTrue(secrets.add(token.substring(token.lastIndexOf('_') + 1)));
        }
    }

    @Test
    void theHashIsSha256OfTheWholeKeyInHex() {
        // echo -n 'gk_abcd_0123456789abcdefghijklmnopqrstuv' | sha256sum
        String token = "gk_abcd_0123456789abcdefghijklmnopqrstuv";
        assertEquals("38120883b209d4258543e365478f6f82ace5adb1b6ac352e7eb1aa2ae66a1558", ApiKeyTokens.hash(token));
        assertTrue(ApiKeyTokens.matches(token, ApiKeyTokens.hash(token)));
        assertFalse(ApiKeyTokens.matches(token + "x", ApiKeyTokens.hash(token)));
        assertFalse(ApiKeyTokens.matches(token.replace("gk_abcd", "gk_abce"), ApiKeyTokens.hash(token)),
                "the id is part of what is hashed");
        assertNotEquals(ApiKeyTokens.hash(token), ApiKeyTokens.hash(token.toUpperCase()));
    }

    @Test
    void anOperatorsKeyFromOpensslHasTheForm() {
        String chosen = "gk_ops_" + "0123456789abcdef".repeat(4); // openssl rand -hex 32
        assertEquals(Optional.empty(), ApiKeyTokens.keyIdOf(chosen), "an id of 3 characters is too short");
        String longer = "gk_opsadmin_" + "0123456789abcdef".repeat(4);
        assertEquals(Optional.of("opsadmin"), ApiKeyTokens.keyIdOf(longer));
        assertTrue(ApiKeyTokens.isToken(longer));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "gk_", "gk__x", "abc", "Bearer gk_abcd_0123456789abcdefghijklmnopqrstuv",
            "gk_abcd_0123456789abcdefghijklmnopqrstu", // 31-character secret
            "gk_ABCD_0123456789abcdefghijklmnopqrstuv", // upper-case id
            "gk_abc_0123456789abcdefghijklmnopqrstuv", // 3-character id
            "gk_abcd_0123456789abcdefghijklmnopqrst+/", "gk_abcd_0123456789abcdefghijklmnopqrstuv ",
            "gk_abcd_0123456789abcdefghijklmnopqrstuv\n", "xk_abcd_0123456789abcdefghijklmnopqrstuv",
            "gk_abcd_0123456789abcdefghijklmnopqrstuv_extra"})
    void whatIsNotAKeyHasNoId(String notAKey) {
        assertEquals(Optional.empty(), ApiKeyTokens.keyIdOf(notAKey));
    }

    @Test
    void aHugeTokenIsRefusedBeforeTheRegexRuns() {
        assertEquals(Optional.empty(), ApiKeyTokens.keyIdOf("gk_abcd_" + "a".repeat(100_000)));
        assertEquals(Optional.empty(), ApiKeyTokens.keyIdOf(null));
    }

    @Test
    void anIssuedKeyNeverPrintsItsSecret() {
        String token = ApiKeyTokens.newToken("abcd1234");
        IssuedApiKey issued = new IssuedApiKey(new ApiKey("abcd1234", "default", Role.ADMIN, "ops",
                ApiKeyTokens.hash(token), java.time.Instant.EPOCH, null), token);
        String secret = token.substring(token.lastIndexOf('_') + 1);
        assertFalse(issued.toString().contains(secret), issued.toString());
        assertFalse(issued.key().toString().contains(issued.key().secretHash()), issued.key().toString());
    }
}
