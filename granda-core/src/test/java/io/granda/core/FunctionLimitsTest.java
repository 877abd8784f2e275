package io.granda.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every rule of {@link FunctionLimits#validate(FunctionSpec)}, each refusal naming its field. */
class FunctionLimitsTest {

    private static final FunctionLimits LIMITS = FunctionLimits.DEFAULTS;
    private static final String DIGEST =
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static FunctionSpec.Builder valid() {
        return FunctionSpec.builder("hello").image("granda/hello");
    }

    private static void assertRefused(String field, FunctionSpec spec) {
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class, () -> LIMITS.validate(spec));
        assertEquals(field, e.field(), e.getMessage());
        assertEquals("invalid_request", e.code());
        assertTrue(!e.getMessage().isBlank());
    }

    @Test
    void aValidSpecIsReturnedAsIs() {
        FunctionSpec spec = valid().description("says hello").env(Map.of("GREETING", "hi")).build();
        assertSame(spec, LIMITS.validate(spec));
    }

    // ---- name ---------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"a", "hello", "hello-world", "a1", "f-2-b", "abc123",
            "a23456789012345678901234567890123456789012345678901234567890123"})
    void validNames(String name) {
        assertEquals(name, LIMITS.validate(valid().name(name).build()).name());
        FunctionLimits.validateName(name);
    }

    @Test
    void the63CharacterNameIsTheLongestAllowed() {
        String name63 = "a" + "b".repeat(62);
        assertEquals(63, name63.length());
        LIMITS.validate(valid().name(name63).build());
        assertRefused("name", valid().name(name63 + "c").build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "Hello", "hellO", "HELLO", "1hello", "-hello", "hello-", "hello_world",
            "hello.world", "hello world", "héllo", "привет", "hello\n", "a/b", "a:b", "ｈｅｌｌｏ"})
    void invalidNames(String name) {
        assertRefused("name", valid().name(name).build());
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> FunctionLimits.validateName(name));
        assertEquals("name", e.field());
    }

    @Test
    void aNullNameIsRefusedByValidateName() {
        assertEquals("name", assertThrows(InvalidFunctionSpecException.class,
                () -> FunctionLimits.validateName(null)).field());
    }

    @Test
    void aVeryLongNameIsAbbreviatedInTheMessage() {
        String name = "A".repeat(10_000);
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> FunctionLimits.validateName(name));
        assertTrue(e.getMessage().length() < 400, e.getMessage());
    }

    // ---- description --------------------------------------------------------------------------------------------

    @Test
    void descriptionUpToTheLimitIsAllowed() {
        LIMITS.validate(valid().description("").build());
        LIMITS.validate(valid().description("d".repeat(LIMITS.maxDescriptionLength())).build());
    }

    @Test
    void descriptionOverTheLimitIsRefused() {
        assertRefused("description", valid().description("d".repeat(LIMITS.maxDescriptionLength() + 1)).build());
    }

    // ---- image --------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"granda/hello", "granda/hello:latest", "localhost:5000/a/b:1.0", "busybox",
            "busybox@sha256:" + DIGEST, "busybox:1.36@sha256:" + DIGEST, "registry.example.com/team/app:v1.2.3",
            "a__b", "a-b--c/d.e", "granda/hello:Tag_1"})
    void validImages(String image) {
        LIMITS.validate(valid().image(image).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "granda/ hello", "granda/hello latest", "granda/Hello", "HELLO", "a::b",
            "granda/hello:", "granda/hello@sha256:abc", "busybox@sha256:" + "0123456789ABCDEF0123456789ABCDEF"
            + "0123456789ABCDEF0123456789ABCDEF", "/hello", "hello/", "hello:-tag", "a//b", "hello\n",
            "-hello", "hello_", "granda/hello:latest;rm -rf /"})
    void invalidImages(String image) {
        assertRefused("image", valid().image(image).build());
    }

    @Test
    void aMissingImageIsRefused() {
        assertRefused("image", FunctionSpec.builder("hello").build());
        assertRefused("image", valid().image(null).build());
    }

    @Test
    void anImageReferenceOver255CharactersIsRefused() {
        String longRepo = "a".repeat(250) + "/hello";
        assertRefused("image", valid().image(longRepo).build());
    }

    @Test
    void aTagOf128CharactersIsTheLongestAllowed() {
        LIMITS.validate(valid().image("hello:" + "t".repeat(128)).build());
        assertRefused("image", valid().image("hello:" + "t".repeat(129)).build());
    }

    // ---- timeout ------------------------------------------------------------------------------------------------

    @Test
    void timeoutWithinBoundsIsAllowed() {
        LIMITS.validate(valid().timeout(Duration.ofMillis(1)).build());
        LIMITS.validate(valid().timeout(LIMITS.maxTimeout()).build());
    }

    @Test
    void zeroTimeoutIsRefused() {
        assertRefused("timeoutSeconds", valid().timeout(Duration.ZERO).build());
    }

    @Test
    void negativeTimeoutIsRefused() {
        assertRefused("timeoutSeconds", valid().timeout(Duration.ofSeconds(-1)).build());
        assertRefused("timeoutSeconds", valid().timeout(Duration.ofNanos(-1)).build());
    }

    @Test
    void timeoutAboveTheMaximumIsRefused() {
        assertRefused("timeoutSeconds", valid().timeout(LIMITS.maxTimeout().plusNanos(1)).build());
        assertRefused("timeoutSeconds", valid().timeout(Duration.ofDays(365)).build());
    }

    @Test
    void aMissingTimeoutGetsTheDefault() {
        FunctionSpec spec = LIMITS.validate(valid().timeout(null).build());
        assertEquals(FunctionSpec.DEFAULT_TIMEOUT, spec.timeout());
    }

    // ---- memory -------------------------------------------------------------------------------------------------

    @Test
    void memoryWithinBoundsIsAllowed() {
        LIMITS.validate(valid().memoryMb(LIMITS.minMemoryMb()).build());
        LIMITS.validate(valid().memoryMb(LIMITS.maxMemoryMb()).build());
    }

    @Test
    void memoryOutOfBoundsIsRefused() {
        assertRefused("memoryMb", valid().memoryMb(LIMITS.minMemoryMb() - 1).build());
        assertRefused("memoryMb", valid().memoryMb(LIMITS.maxMemoryMb() + 1).build());
        assertRefused("memoryMb", valid().memoryMb(-128).build());
        assertRefused("memoryMb", valid().memoryMb(Integer.MAX_VALUE).build());
    }

    @Test
    void operatorLimitsAreHonoured() {
        FunctionLimits tight = new FunctionLimits(Duration.ofSeconds(5), 64, 256, 10, 2, 64, 64, 1000, Duration.ofHours(24));
        tight.validate(valid().timeout(Duration.ofSeconds(5)).memoryMb(64).build());
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> tight.validate(valid().timeout(Duration.ofSeconds(6)).memoryMb(64).build()));
        assertEquals("timeoutSeconds", e.field());
        e = assertThrows(InvalidFunctionSpecException.class,
                () -> tight.validate(valid().timeout(Duration.ofSeconds(1)).memoryMb(512).build()));
        assertEquals("memoryMb", e.field());
    }

    @Test
    void limitsThemselvesMustBeSane() {
        assertThrows(IllegalArgumentException.class, () -> new FunctionLimits(Duration.ZERO, 16, 64, 10, 1, 1, 64, 1000, Duration.ofHours(24)));
        assertThrows(IllegalArgumentException.class, () -> new FunctionLimits(null, 16, 64, 10, 1, 1, 64, 1000, Duration.ofHours(24)));
        assertThrows(IllegalArgumentException.class,
                () -> new FunctionLimits(Duration.ofSeconds(1), 5, 64, 10, 1, 1, 64, 1000, Duration.ofHours(24)));
        assertThrows(IllegalArgumentException.class,
                () -> new FunctionLimits(Duration.ofSeconds(1), 64, 32, 10, 1, 1, 64, 1000, Duration.ofHours(24)));
    }

    // ---- env ----------------------------------------------------------------------------------------------------

    @Test
    void ordinaryEnvIsAllowed() {
        LIMITS.validate(valid().env(Map.of("A", "1", "_private", "", "lower_case", "x", "PATH_2", "v=w"))
                .build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"GRANDA_", "GRANDA_FUNCTION", "GRANDA_INVOCATION_ID"})
    void reservedEnvNamesAreRefused(String key) {
        assertRefused("env", valid().env(Map.of(key, "x")).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1ABC", "A-B", "A B", "A=B", "Ä", "A.B", "A\0B"})
    void badEnvNamesAreRefused(String key) {
        assertRefused("env", valid().env(Map.of(key, "x")).build());
    }

    @Test
    void anEnvNameOf128CharactersIsTheLongestAllowed() {
        LIMITS.validate(valid().env(Map.of("A".repeat(128), "x")).build());
        assertRefused("env", valid().env(Map.of("A".repeat(129), "x")).build());
    }

    @Test
    void nullEnvNamesAndValuesAreRefused() {
        Map<String, String> nullKey = new HashMap<>();
        nullKey.put(null, "x");
        assertRefused("env", valid().env(nullKey).build());
        Map<String, String> nullValue = new HashMap<>();
        nullValue.put("A", null);
        assertRefused("env", valid().env(nullValue).build());
    }

    @Test
    void aNulCharacterInAValueIsRefused() {
        assertRefused("env", valid().env(Map.of("A", "x\0y")).build());
    }

    @Test
    void tooManyEnvEntriesAreRefused() {
        Map<String, String> env = new LinkedHashMap<>();
        for (int i = 0; i < LIMITS.maxEnvEntries(); i++) {
            env.put("V" + i, "x");
        }
        LIMITS.validate(valid().env(env).build());
        env.put("ONE_MORE", "x");
        assertRefused("env", valid().env(env).build());
    }

    @Test
    void envLargerThanTheByteLimitIsRefused() {
        // Names and values count together, in UTF-8 bytes.
        int max = LIMITS.maxEnvBytes();
        LIMITS.validate(valid().env(Map.of("A", "x".repeat(max - 1))).build());
        assertRefused("env", valid().env(Map.of("A", "x".repeat(max))).build());
        // 'é' is one char but two UTF-8 bytes.
        assertRefused("env", valid().env(Map.of("A", "é".repeat(max / 2))).build());
    }

    // ---- order --------------------------------------------------------------------------------------------------

    @Test
    void theFirstOffendingFieldIsNamed() {
        FunctionSpec bad = FunctionSpec.builder("Bad").image("").timeout(Duration.ZERO).memoryMb(1).build();
        assertRefused("name", bad);
        assertRefused("image", bad.toBuilder().name("ok").build());
        assertRefused("timeoutSeconds", bad.toBuilder().name("ok").image("ok").build());
        assertRefused("memoryMb", bad.toBuilder().name("ok").image("ok").timeout(Duration.ofSeconds(1)).build());
    }
}
