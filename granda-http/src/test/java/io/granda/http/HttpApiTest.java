package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import io.granda.testkit.FakeBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP API against a real Helidon server, with a fake backend so that every answer a backend can give is
 * reachable quickly. The same API against real Docker is tested in granda-server.
 */
class HttpApiTest {

    private FakeBackend backend;
    private HttpTestServer http;

    /** The fake's behaviour is chosen per function by its env var BEHAVIOUR. */
    private static RunOnceResult behave(RunOnceRequest r) {
        String behaviour = r.env().getOrDefault("BEHAVIOUR", "echo");
        return switch (behaviour) {
            case "exit3" -> new RunOnceResult(RunOnceResult.Termination.EXITED, 3, "partial".getBytes(StandardCharsets.UTF_8),
                    false, "something broke\n", Duration.ZERO, Duration.ofMillis(5), Duration.ofMillis(7), -1);
            case "timeout" -> new RunOnceResult(RunOnceResult.Termination.TIMED_OUT, -1, new byte[0], false, "",
                    Duration.ZERO, Duration.ofMillis(5), r.timeout(), -1);
            case "oom" -> new RunOnceResult(RunOnceResult.Termination.OUT_OF_MEMORY, 137, new byte[0], false, "Killed",
                    Duration.ZERO, Duration.ofMillis(5), Duration.ofMillis(9), -1);
            default -> FakeBackend.echo(r);
        };
    }

    @BeforeEach
    void start() {
        backend = new FakeBackend().withMissingImage("granda/nowhere:1").withBehaviour(HttpApiTest::behave);
        http = new HttpTestServer(Granda.builder().backend(backend).build(), GrandaHttpConfig.DEFAULTS);
    }

    @AfterEach
    void stop() {
        http.close();
    }

    private JsonNode create(String json) {
        HttpTestServer.Reply r = http.json("POST", "/functions", json);
        assertEquals(201, r.status(), r.text());
        return r.json();
    }

    private int functionCount() {
        return http.get("/functions").json().get("items").size();
    }

    private String pathOf(JsonNode fn) {
        return fn.get("path").asText();
    }

    @Test
    void createsAFunctionWithAnUnguessableUrlAndShowsIt() {
        JsonNode fn = create("""
                {"name":"hello","description":"greets","image":"granda/hello","timeoutSeconds":5,"memoryMb":64,
                 "env":{"GREETING":"hi","B":"2"}}""");
        assertEquals("hello", fn.get("name").asText());
        assertEquals(1, fn.get("revision").asLong());
        assertEquals(5, fn.get("timeoutSeconds").asInt());
        assertEquals(64, fn.get("memoryMb").asInt());
        assertEquals("hi", fn.get("env").get("GREETING").asText());
        assertEquals("run", fn.get("mode").asText());
        String url = fn.get("url").asText();
        assertTrue(url.startsWith(http.base() + "/f/hello-"), url);
        assertTrue(url.length() - (http.base() + "/f/hello-").length() >= 24, "route secret too short: " + url);

        HttpTestServer.Reply got = http.get("/functions/hello");
        assertEquals(200, got.status());
        assertEquals("\"1\"", got.header("ETag"));
        assertEquals(url, got.json().get("url").asText());
        assertEquals(1, functionCount());
    }

    @Test
    void callingTheUrlRunsTheFunctionWithTheBodyAsPayload() {
        JsonNode fn = create("{\"name\":\"echo\",\"image\":\"granda/hello\"}");
        for (String method : new String[] {"POST", "PUT", "GET", "DELETE", "PATCH"}) {
            HttpTestServer.Reply r = http.send(method, pathOf(fn) + "/some/path?x=1", "text/plain",
                    "payload-" .concat(method).getBytes(StandardCharsets.UTF_8));
            assertEquals(200, r.status(), method + ": " + r.text());
            assertEquals("payload-" + method, r.text());
            assertNotNull(r.header("X-Granda-Invocation-Id"));
            assertEquals("success", r.header("X-Granda-Outcome"));
            assertEquals("*", r.header("Access-Control-Allow-Origin"));
        }
        assertEquals(5, backend.runCalls());
    }

    @Test
    void functionFailureIs502WithTheLogTailAndIsRecorded() {
        JsonNode fn = create("{\"name\":\"fails\",\"image\":\"granda/hello\",\"env\":{\"BEHAVIOUR\":\"exit3\"}}");
        HttpTestServer.Reply r = http.send("POST", pathOf(fn), "text/plain", "x".getBytes(StandardCharsets.UTF_8));
        assertEquals(502, r.status());
        JsonNode body = r.json();
        assertEquals("function_error", body.get("error").asText());
        assertEquals(3, body.get("exitCode").asInt());
        assertEquals("something broke\n", body.get("logTail").asText());

        JsonNode calls = http.get("/functions/fails/invocations").json().get("items");
        assertEquals(1, calls.size());
        assertEquals("function_error", calls.get(0).get("outcome").asText());
        assertEquals(3, calls.get(0).get("exitCode").asInt());
        assertEquals(body.get("invocationId").asText(), calls.get(0).get("invocationId").asText());
    }

    @Test
    void timeoutIs504AndOutOfMemoryIs502() {
        JsonNode slow = create("{\"name\":\"slow\",\"image\":\"granda/hello\",\"timeoutSeconds\":1,\"env\":{\"BEHAVIOUR\":\"timeout\"}}");
        HttpTestServer.Reply t = http.send("POST", pathOf(slow), null, null);
        assertEquals(504, t.status());
        assertEquals("timeout", t.json().get("error").asText());
        assertTrue(t.json().get("exitCode").isNull());

        JsonNode hog = create("{\"name\":\"hog\",\"image\":\"granda/hello\",\"memoryMb\":16,\"env\":{\"BEHAVIOUR\":\"oom\"}}");
        HttpTestServer.Reply o = http.send("POST", pathOf(hog), null, null);
        assertEquals(502, o.status());
        assertEquals("out_of_memory", o.json().get("error").asText());

        JsonNode usage = http.get("/functions/slow/usage").json();
        assertEquals(1, usage.get("calls").asLong());
        assertEquals(1, usage.get("timeouts").asLong());
    }

    @Test
    void recentLogsListTheLastCallsWithTheEndOfTheirLogsNewestFirst() {
        JsonNode fn = create("{\"name\":\"flaky\",\"image\":\"granda/hello\",\"env\":{\"BEHAVIOUR\":\"exit3\"}}");
        assertEquals(0, http.get("/functions/flaky/logs").json().get("items").size());
        HttpTestServer.Reply call = http.send("POST", pathOf(fn), "text/plain", "x".getBytes(StandardCharsets.UTF_8));
        assertEquals(502, call.status());
        JsonNode logs = http.get("/functions/flaky/logs").json();
        assertEquals("flaky", logs.get("function").asText());
        assertEquals(50, logs.get("capacity").asInt());
        JsonNode last = logs.get("items").get(0);
        assertEquals(call.header("X-Granda-Invocation-Id"), last.get("invocationId").asText());
        assertEquals(1, last.get("revision").asLong());
        assertEquals("function_error", last.get("outcome").asText());
        assertEquals(502, last.get("status").asInt());
        assertEquals(3, last.get("exitCode").asInt());
        assertTrue(last.get("cold").asBoolean());
        assertEquals("something broke\n", last.get("logTail").asText());
        assertTrue(last.get("durationMs").asLong() >= 0);
        // The same instants as the call's invocation record, to the microsecond.
        JsonNode record = http.get("/functions/flaky/invocations?limit=1").json().get("items").get(0);
        assertEquals(micros(record.get("start").asText()), java.time.Instant.parse(last.get("start").asText()));
        assertEquals(micros(record.get("end").asText()), java.time.Instant.parse(last.get("end").asText()));

        http.send("POST", pathOf(fn), "text/plain", "y".getBytes(StandardCharsets.UTF_8));
        JsonNode items = http.get("/functions/flaky/logs").json().get("items");
        assertEquals(2, items.size());
        assertTrue(items.get(0).get("invocationId").asText().compareTo(items.get(1).get("invocationId").asText()) > 0,
                "newest first");

        assertEquals("function_not_found", http.get("/functions/nobody/logs").json().get("error").asText());
        HttpTestServer.Reply post = http.send("POST", "/functions/flaky/logs", null, null);
        assertEquals(405, post.status());
        assertEquals("GET", post.header("Allow"));
    }

    private static java.time.Instant micros(String instant) {
        return java.time.Instant.parse(instant).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }

    @Test
    void unknownUrlsAre404Json() {
        assertEquals(404, http.send("POST", "/f/nobody-aaaaaaaaaaaaaaaaaaaaaaaa", null, null).status());
        assertEquals("function_not_found", http.get("/f/nobody-aaaaaaaaaaaaaaaaaaaaaaaa").json().get("error").asText());
        assertEquals(404, http.get("/functions/nobody").status());
        HttpTestServer.Reply other = http.get("/no/such/thing");
        assertEquals(404, other.status());
        assertEquals("not_found", other.json().get("error").asText());
        assertEquals(0, backend.runCalls());
    }

    @Test
    void payloadOverTheLimitIs413AndNothingRuns() {
        JsonNode fn = create("{\"name\":\"big\",\"image\":\"granda/hello\"}");
        byte[] tooBig = new byte[6 * 1024 * 1024 + 1];
        HttpTestServer.Reply r = http.send("POST", pathOf(fn), "application/octet-stream", tooBig);
        assertEquals(413, r.status(), r.text());
        assertEquals(0, backend.runCalls());
        byte[] justRight = new byte[6 * 1024 * 1024];
        assertEquals(200, http.send("POST", pathOf(fn), "application/octet-stream", justRight).status());
    }

    @Test
    void backendDownIs503() {
        JsonNode fn = create("{\"name\":\"down\",\"image\":\"granda/hello\"}");
        backend.setDown(true);
        HttpTestServer.Reply r = http.send("POST", pathOf(fn), null, null);
        assertEquals(503, r.status());
        assertEquals("backend_unavailable", r.json().get("error").asText());
        HttpTestServer.Reply health = http.get("/health");
        assertEquals(503, health.status());
        assertEquals("DOWN", health.json().get("checks").get("backend").get("status").asText());
        backend.setDown(false);
        assertEquals(200, http.get("/health").status());
    }

    @Test
    void updateMakesANewRevisionAtTheSameUrlAndIfMatchGuardsIt() {
        JsonNode fn = create("{\"name\":\"upd\",\"image\":\"granda/hello\"}");
        HttpTestServer.Reply r = http.json("PUT", "/functions/upd", "{\"image\":\"granda/hello:v2\",\"timeoutSeconds\":3}");
        assertEquals(200, r.status(), r.text());
        assertEquals(2, r.json().get("revision").asLong());
        assertEquals(fn.get("url").asText(), r.json().get("url").asText());
        assertEquals("granda/hello:v2", r.json().get("image").asText());

        HttpTestServer.Reply stale = http.send(http.request("/functions/upd")
                .header("Content-Type", "application/json").header("If-Match", "\"1\"")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"image\":\"granda/hello:v3\"}")).build());
        assertEquals(409, stale.status());
        assertEquals("revision_conflict", stale.json().get("error").asText());
        assertEquals("granda/hello:v2", http.get("/functions/upd").json().get("image").asText());

        assertEquals(400, http.json("PUT", "/functions/upd", "{\"name\":\"other\",\"image\":\"a\"}").status());
        assertEquals(404, http.json("PUT", "/functions/ghost", "{\"image\":\"a\"}").status());
        http.send("POST", pathOf(fn), null, null);
        assertEquals(2, http.get("/functions/upd/invocations").json().get("items").get(0).get("revision").asLong());
    }

    @Test
    void deleteStopsTheUrlButKeepsNothingElseBroken() {
        JsonNode fn = create("{\"name\":\"gone\",\"image\":\"granda/hello\"}");
        assertEquals(204, http.send("DELETE", "/functions/gone", null, null).status());
        assertEquals(404, http.send("POST", pathOf(fn), null, null).status());
        assertEquals(404, http.send("DELETE", "/functions/gone", null, null).status());
        assertEquals(0, functionCount());
        JsonNode again = create("{\"name\":\"gone\",\"image\":\"granda/hello\"}");
        assertFalse(again.get("url").asText().equals(fn.get("url").asText()), "a recreated function gets a new URL");
    }

    @Test
    void invocationsArePagedNewestFirst() {
        JsonNode fn = create("{\"name\":\"paged\",\"image\":\"granda/hello\"}");
        for (int i = 0; i < 7; i++) {
            http.send("POST", pathOf(fn), "text/plain", ("call-" + i).getBytes(StandardCharsets.UTF_8));
        }
        JsonNode first = http.get("/functions/paged/invocations?limit=3").json();
        assertEquals(3, first.get("items").size());
        String cursor = first.get("nextCursor").asText();
        JsonNode second = http.get("/functions/paged/invocations?limit=3&cursor=" + cursor).json();
        JsonNode third = http.get("/functions/paged/invocations?limit=3&cursor=" + second.get("nextCursor").asText()).json();
        assertEquals(1, third.get("items").size());
        assertTrue(third.get("nextCursor").isNull());
        assertTrue(first.get("items").get(0).get("start").asText().compareTo(
                third.get("items").get(0).get("start").asText()) >= 0);
        assertEquals(400, http.get("/functions/paged/invocations?limit=0").status());
        assertEquals(400, http.get("/functions/paged/invocations?limit=abc").status());
        assertEquals(400, http.get("/functions/paged/invocations?cursor=not-a-cursor").status());
        JsonNode usage = http.get("/functions/paged/usage?since=1h").json();
        assertEquals(7, usage.get("calls").asLong());
        assertEquals(0, http.get("/functions/paged/usage?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z").json().get("calls").asLong());
        assertEquals(400, http.get("/functions/paged/usage?since=yesterday").status());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            missing name            | {"image":"granda/hello"}                                       | 400 | name
            empty name              | {"name":"","image":"granda/hello"}                             | 400 | name
            uppercase name          | {"name":"Hello","image":"granda/hello"}                        | 400 | name
            name with slash         | {"name":"a/b","image":"granda/hello"}                          | 400 | name
            name too long           | {"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","image":"granda/hello"} | 400 | name
            name not a string       | {"name":5,"image":"granda/hello"}                              | 400 | name
            missing image           | {"name":"x"}                                                   | 400 | image
            invalid image           | {"name":"x","image":"Not An Image"}                            | 400 | image
            unpullable image        | {"name":"x","image":"granda/nowhere:1"}                        | 422 | 
            zero timeout            | {"name":"x","image":"granda/hello","timeoutSeconds":0}         | 400 | timeoutSeconds
            negative timeout        | {"name":"x","image":"granda/hello","timeoutSeconds":-1}        | 400 | timeoutSeconds
            fractional timeout      | {"name":"x","image":"granda/hello","timeoutSeconds":1.5}       | 400 | timeoutSeconds
            string timeout          | {"name":"x","image":"granda/hello","timeoutSeconds":"10"}      | 400 | timeoutSeconds
            huge timeout            | {"name":"x","image":"granda/hello","timeoutSeconds":1e30}      | 400 | timeoutSeconds
            timeout above maximum   | {"name":"x","image":"granda/hello","timeoutSeconds":100000}    | 400 | timeoutSeconds
            memory too small        | {"name":"x","image":"granda/hello","memoryMb":1}               | 400 | memoryMb
            memory too large        | {"name":"x","image":"granda/hello","memoryMb":999999}          | 400 | memoryMb
            memory not a number     | {"name":"x","image":"granda/hello","memoryMb":[1]}             | 400 | memoryMb
            env not an object       | {"name":"x","image":"granda/hello","env":["A=1"]}              | 400 | env
            env value not a string  | {"name":"x","image":"granda/hello","env":{"A":1}}              | 400 | env
            reserved env name       | {"name":"x","image":"granda/hello","env":{"GRANDA_X":"1"}}     | 400 | env
            unknown mode            | {"name":"x","image":"granda/hello","mode":"warp"}              | 400 | mode
            unknown field           | {"name":"x","image":"granda/hello","timeout":5}                | 400 | timeout
            not an object           | ["name","x"]                                                   | 400 | 
            malformed json          | {"name":"x","image":                                           | 400 | 
            duplicate key           | {"name":"x","name":"y","image":"granda/hello"}                 | 400 | 
            trailing garbage        | {"name":"x","image":"granda/hello"} xyz                        | 400 | 
            """)
    void badCreateRequestsAreRefusedClearlyAndChangeNothing(String label, String json, int status, String field) {
        HttpTestServer.Reply r = http.json("POST", "/functions", json);
        assertEquals(status, r.status(), label + ": " + r.text());
        JsonNode body = r.json();
        assertNotNull(body.get("error"), label);
        assertFalse(body.get("message").asText().isBlank(), label);
        if (field != null) {
            assertEquals(field, body.get("field").asText(), label + ": " + r.text());
        }
        assertEquals(0, functionCount(), label + " must not create anything");
    }

    @Test
    void duplicateNameIs409AndKeepsTheFirst() {
        JsonNode first = create("{\"name\":\"dup\",\"image\":\"granda/hello\"}");
        HttpTestServer.Reply r = http.json("POST", "/functions", "{\"name\":\"dup\",\"image\":\"granda/other\"}");
        assertEquals(409, r.status());
        assertEquals("function_exists", r.json().get("error").asText());
        assertEquals(first.get("url").asText(), http.get("/functions/dup").json().get("url").asText());
        assertEquals("granda/hello", http.get("/functions/dup").json().get("image").asText());
    }

    @Test
    void wrongContentTypeIs415AndEmptyBodyIs400() {
        HttpTestServer.Reply r = http.send("POST", "/functions", "text/plain",
                "{\"name\":\"x\",\"image\":\"granda/hello\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(415, r.status());
        assertEquals("unsupported_media_type", r.json().get("error").asText());
        assertEquals(415, http.send("POST", "/functions", null, "{}".getBytes(StandardCharsets.UTF_8)).status());
        assertEquals(400, http.send("POST", "/functions", "application/json", new byte[0]).status());
        assertEquals(400, http.send("POST", "/functions", "application/json; charset=utf-8",
                new byte[] {(byte) 0xff, (byte) 0xfe, 0x7b}).status());
        assertEquals(0, functionCount());
    }

    @Test
    void oversizedManagementBodyIs413() {
        String big = "{\"name\":\"x\",\"image\":\"granda/hello\",\"description\":\"" + "a".repeat(2 * 1024 * 1024) + "\"}";
        assertEquals(413, http.json("POST", "/functions", big).status());
        assertEquals(0, functionCount());
    }

    @Test
    void wrongMethodsAre405() {
        HttpTestServer.Reply r = http.send("PATCH", "/functions", null, null);
        assertEquals(405, r.status());
        assertEquals("method_not_allowed", r.json().get("error").asText());
        assertEquals(405, http.send("POST", "/functions/x/usage", null, null).status());
    }

    @Test
    void corsPreflightOnAFunctionUrlRunsNothing() {
        JsonNode fn = create("{\"name\":\"cors\",\"image\":\"granda/hello\"}");
        HttpTestServer.Reply r = http.send(http.request(pathOf(fn))
                .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://example.com").header("Access-Control-Request-Method", "POST").build());
        assertEquals(204, r.status());
        assertEquals("*", r.header("Access-Control-Allow-Origin"));
        assertEquals(0, backend.runCalls());
    }

    @Test
    void healthSaysUpWithEachComponent() {
        HttpTestServer.Reply r = http.get("/health");
        assertEquals(200, r.status());
        assertEquals("UP", r.json().get("status").asText());
        assertEquals("UP", r.json().get("checks").get("backend").get("status").asText());
        assertNull(r.json().get("checks").get("nothing"));
    }
}
