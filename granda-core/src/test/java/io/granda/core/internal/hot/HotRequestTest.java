package io.granda.core.internal.hot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A request that could break the framing on the wire cannot be made. */
class HotRequestTest {

    private static HotRequest withHeader(String name, String value) {
        return new HotRequest("POST", "/", List.of(new HotHeader(name, value)), new byte[0]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\r\nInjected: yes", "a\nb", "a\rb", "nul\u0000", "del\u007f", "wide\u2028"})
    void headerValuesWithControlsOrWideCharsAreRefused(String value) {
        assertThrows(IllegalArgumentException.class, () -> withHeader("X-A", value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "X A", "X:A", "X-\u00e9", "X\r\n"})
    void headerNamesThatAreNotTokensAreRefused(String name) {
        assertThrows(IllegalArgumentException.class, () -> withHeader(name, "v"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "orders", "/a b", "/a\r\nb", "/tab\t", "/\u0100"})
    void targetsThatWouldBreakTheRequestLineAreRefused(String target) {
        assertThrows(IllegalArgumentException.class, () -> new HotRequest("GET", target, List.of(), new byte[0]));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "GET /", "GE\tT", "G\u00c9T"})
    void methodsThatAreNotTokensAreRefused(String method) {
        assertThrows(IllegalArgumentException.class, () -> new HotRequest(method, "/", List.of(), new byte[0]));
    }

    @Test
    void ordinaryValuesAreAccepted() {
        HotRequest request = new HotRequest("PATCH", "/caf%C3%A9/\u00e9?q=a+b&x=%20",
                List.of(new HotHeader("X-A", "tab\tand space, caf\u00e9"), new HotHeader("X-Empty", "")),
                "{}".getBytes());
        assertEquals("PATCH", request.method());
        assertFalse(request.isHead());
        assertTrue(new HotRequest("HEAD", "/", List.of(), new byte[0]).isHead());
    }

    @Test
    void headersAreCopiedAndBodiesCompareByContent() {
        List<HotHeader> headers = new ArrayList<>(List.of(new HotHeader("A", "1")));
        HotRequest request = new HotRequest("GET", "/", headers, new byte[] {1, 2});
        headers.add(new HotHeader("B", "2"));
        assertEquals(1, request.headers().size());
        assertEquals(request, new HotRequest("GET", "/", List.of(new HotHeader("A", "1")), new byte[] {1, 2}));
        assertEquals(request.hashCode(),
                new HotRequest("GET", "/", List.of(new HotHeader("A", "1")), new byte[] {1, 2}).hashCode());
        assertNotEquals(request, new HotRequest("GET", "/", List.of(new HotHeader("A", "1")), new byte[] {1, 3}));
    }
}
