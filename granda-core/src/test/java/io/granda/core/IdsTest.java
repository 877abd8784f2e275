package io.granda.core;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdsTest {

    /** Lowercase Crockford base32: digits and letters without i, l, o and u. */
    private static final Pattern CROCKFORD = Pattern.compile("[0-9a-hjkmnp-tv-z]+");
    /** 2^48 ms: the largest time a 48-bit timestamp holds (year 10889). */
    private static final long MAX_MILLIS = (1L << 48) - 1;

    @Property
    void timeOrderedIdsSortByTime(@ForAll @LongRange(min = 0, max = MAX_MILLIS - 1) long earlier,
                                  @ForAll @LongRange(min = 1, max = 1L << 40) long gap) {
        long later = Math.min(MAX_MILLIS, earlier + gap);
        String a = Ids.newTimeOrderedId(Instant.ofEpochMilli(earlier));
        String b = Ids.newTimeOrderedId(Instant.ofEpochMilli(later));
        assertTrue(a.compareTo(b) < 0, a + " should sort before " + b);
    }

    @Test
    void idsMadeOneMillisecondApartSortInTheOrderTheyWereMade() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            made.add(Ids.newTimeOrderedId(t.plusMillis(i)));
        }
        List<String> sorted = new ArrayList<>(made);
        sorted.sort(null);
        assertEquals(made, sorted);
    }

    @Property
    void timeOrderedIdsAre26LowercaseCrockfordCharacters(@ForAll @LongRange(min = 0, max = MAX_MILLIS) long millis) {
        String id = Ids.newTimeOrderedId(Instant.ofEpochMilli(millis));
        assertEquals(26, id.length(), id);
        assertTrue(CROCKFORD.matcher(id).matches(), id);
    }

    @Property
    void theFirstTenCharactersEncodeTheMillisecond(@ForAll @LongRange(min = 0, max = MAX_MILLIS) long millis) {
        String id = Ids.newTimeOrderedId(Instant.ofEpochMilli(millis));
        String alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        long decoded = 0;
        for (int i = 0; i < 10; i++) {
            decoded = decoded * 32 + alphabet.indexOf(id.charAt(i));
        }
        assertEquals(millis, decoded);
    }

    @Test
    void timeOrderedIdsOfTheSameMillisecondDiffer() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            ids.add(Ids.newTimeOrderedId(t));
        }
        assertEquals(10_000, ids.size());
    }

    @Test
    void routeIdsAreTheNameADashAnd24CrockfordCharacters() {
        for (String name : List.of("a", "hello", "my-func-2", "x".repeat(63))) {
            String route = Ids.newRouteId(name);
            assertTrue(route.startsWith(name + "-"), route);
            String secret = route.substring(name.length() + 1);
            assertEquals(24, secret.length(), route);
            assertTrue(CROCKFORD.matcher(secret).matches(), route);
        }
    }

    @Test
    void a100kRouteIdsAreAllDistinct() {
        Set<String> routes = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            routes.add(Ids.newRouteId("hello"));
        }
        assertEquals(100_000, routes.size());
    }

    @Test
    void routeSecretsUseTheWholeAlphabet() {
        // 120 random bits spread over 24 characters: every symbol shows up in a few thousand secrets, and the last
        // character (which holds the final 5 bits) is not stuck at a padding value.
        Set<Character> seen = new HashSet<>();
        Set<Character> lastSeen = new HashSet<>();
        for (int i = 0; i < 5_000; i++) {
            String route = Ids.newRouteId("f");
            for (char c : route.substring(2).toCharArray()) {
                seen.add(c);
            }
            lastSeen.add(route.charAt(route.length() - 1));
        }
        assertEquals(32, seen.size());
        assertEquals(32, lastSeen.size());
    }
}
