package io.granda.runtimes;

import io.granda.core.build.FunctionSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module style of python and node (docs/runtimes.md): the handler's function is called per request with the
 * request's parts, and what it returns becomes the answer. The sample (test resources {@code samples/*-module}) answers
 * by path.
 */
abstract class ModuleShimContract extends ShimContract {

    /** @return a source whose handler fails while loading, with "broken at load" in its error */
    abstract FunctionSource brokenAtLoad();

    /** Starts the shim on a function directory already written. */
    abstract ShimProcess startIn(Path dir) throws Exception;

    @Override
    String echoTarget() {
        return "/echo";
    }

    @Test
    void passesMethodPathQueryHeadersAndBody() throws Exception {
        byte[] body = {0, 1, (byte) 0xff, 'z'};
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.send("PUT", "/echo/a%20b?a=1&a=2&b=x%20y",
                    Map.of("X-Test", "yes", "Granda-Timeout-Ms", "5000"), body);
            assertEquals(200, r.status(), r.text());
            assertEquals("application/octet-stream", r.header("content-type"));
            assertEquals("PUT", r.header("x-method"));
            assertEquals("/echo/a b", r.header("x-path"));
            assertEquals("/echo/a%20b", r.header("x-raw-path"));
            assertEquals("a=1&a=2&b=x%20y", r.header("x-raw-query"));
            assertEquals("{\"a\":\"1\",\"b\":\"x y\"}", r.header("x-query"));
            assertEquals("{\"a\":[\"1\",\"2\"],\"b\":[\"x y\"]}", r.header("x-query-all"));
            assertEquals("yes", r.header("x-test"), "headers are found whatever their case");
            assertEquals("5000", r.header("x-timeout"));
            assertArrayEquals(body, r.body());
        }
    }

    @Test
    void aStringIsUtf8Text() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/text", "wörld");
            assertEquals(200, r.status());
            assertEquals("text/plain; charset=utf-8", r.header("content-type"));
            assertEquals("héllo wörld", r.text());
        }
    }

    @Test
    void bytesAreAnOctetStream() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/bytes", "");
            assertEquals(200, r.status());
            assertEquals("application/octet-stream", r.header("content-type"));
            assertArrayEquals(new byte[] {0, 1, 2}, r.body());
        }
    }

    @Test
    void anObjectOrAListIsJson() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/json", "{\"x\": 1}");
            assertEquals(200, r.status(), r.text());
            assertEquals("application/json", r.header("content-type"));
            assertEquals(Map.of("got", Map.of("x", 1.0)), MiniJson.parse(r.text()));
            HotClient.Response list = client.post("/list", "");
            assertEquals("application/json", list.header("content-type"));
            assertEquals(List.of(1.0, 2.0), MiniJson.parse(list.text()));
        }
    }

    @Test
    void nothingIsNoContent() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/none", "");
            assertEquals(204, r.status());
            assertNull(r.header("content-length"));
            assertEquals(200, client.post("/text", "again").status(), "the connection is still in step");
        }
    }

    @Test
    void theHandlerChoosesStatusAndHeaders() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response teapot = client.post("/status", "");
            assertEquals(418, teapot.status());
            assertEquals("teapot", teapot.text());
            HotClient.Response r = client.post("/headers", "");
            assertEquals(201, r.status());
            assertEquals("text/csv", r.header("content-type"));
            assertEquals(List.of("a=1", "b=2"), r.headerValues("set-cookie"));
            assertEquals("x,y", r.text());
        }
    }

    @Test
    void anExceptionIs500WithItsTrace() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/fail", "");
            assertEquals(500, r.status());
            assertTrue(r.text().contains("boom from the handler"), r.text());
            assertTrue(shim.stderr().contains("boom from the handler"), "and on stderr: " + shim.stderr());
            assertEquals("héllo again", client.post("/text", "again").text(), "the connection goes on");
        }
    }

    @Test
    void anAnswerOfTheWrongKindIs500() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/bad", "");
            assertEquals(500, r.status());
            assertTrue(r.text().contains("TypeError"), r.text());
        }
    }

    @Test
    void anAsynchronousAnswerIsAwaited() throws Exception {
        try (HotClient client = shim.connect()) {
            assertEquals("later", client.post("/async", "").text());
        }
    }

    @Test
    void theHandlerIsLoadedOnceForAllRequests() throws Exception {
        try (HotClient client = shim.connect(); HotClient other = shim.connect()) {
            assertEquals("1", client.post("/imports", "").text());
            assertEquals("1", other.post("/imports", "").text());
        }
    }

    @Test
    void aHandlerThatFailsToLoadEndsTheShimBeforeItListens() throws Exception {
        FunctionSource source = brokenAtLoad();
        Path dir = Samples.writeFunctionDirectory(Samples.runtime(source.runtime()), source, temp.resolve("broken"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> startIn(dir).close());
        assertTrue(e.getMessage().contains("before it was ready") && e.getMessage().contains("broken at load"),
                e.getMessage());
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
