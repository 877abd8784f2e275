package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.core.async.AsyncOptions;
import io.granda.core.async.GrandaEvents;
import io.granda.core.memory.InMemoryEventStore;
import io.granda.core.spi.RunOnceResult;
import io.granda.testkit.FakeBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asynchronous invocations over HTTP, with a fake backend: the answers, the errors, what the function sees. */
@Timeout(60)
class AsyncApiTest {

    private FakeBackend backend;
    private HttpTestServer http;

    @BeforeEach
    void start() {
        backend = new FakeBackend().withBehaviour(r -> switch (r.env().getOrDefault("BEHAVIOUR", "echo")) {
            case "fail" -> new RunOnceResult(RunOnceResult.Termination.EXITED, 4, new byte[0], false, "bad day\n",
                    Duration.ZERO, Duration.ofMillis(1), Duration.ofMillis(1), -1);
            default -> FakeBackend.echo(r);
        });
        Granda granda = Granda.builder().backend(backend).build();
        GrandaEvents events = GrandaEvents.builder(granda, new InMemoryEventStore())
                .options(AsyncOptions.DEFAULTS.withPollInterval(Duration.ofMillis(20))).start();
        http = new HttpTestServer(granda, events, GrandaHttpConfig.DEFAULTS);
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

    private JsonNode awaitStatus(String id, String status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            JsonNode e = http.get("/invocations/" + id).json();
            if (e.get("status").asText().equals(status)) {
                return e;
            }
            assertTrue(System.nanoTime() < deadline, "event " + id + " never became " + status + ": " + e);
            Thread.sleep(10);
        }
    }

    private HttpTestServer.Reply post(String path, String body, String... headers) {
        return post(http, path, body, headers);
    }

    private static HttpTestServer.Reply post(HttpTestServer as, String path, String body, String... headers) {
        HttpRequest.Builder b = as.request(path).POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return as.send(b.build());
    }

    @Test
    void postingToAsyncAnswers202AtOnceAndTheResultIsReadLater() throws Exception {
        create("{\"name\":\"echo\",\"image\":\"granda/hello\"}");
        HttpTestServer.Reply r = post("/functions/echo/async", "hello later", "Content-Type", "text/plain");

        assertEquals(202, r.status(), r.text());
        String id = r.json().get("invocationId").asText();
        assertEquals("queued", r.json().get("status").asText());
        assertEquals("/invocations/" + id, r.header("Location"));
        assertEquals("/invocations/" + id, r.json().get("statusUrl").asText());
        assertEquals(id, r.header("X-Granda-Invocation-Id"));

        JsonNode done = awaitStatus(id, "succeeded");
        assertEquals("hello later", done.get("result").get("body").asText());
        assertEquals(200, done.get("result").get("status").asInt());
        assertEquals(1, done.get("attempts").asInt());
        assertTrue(done.get("async").asBoolean());
        // The attempt's call is an ordinary invocation record, found under the same route.
        String callId = done.get("lastAttemptInvocationId").asText();
        JsonNode call = http.get("/invocations/" + callId).json();
        assertFalse(call.get("async").asBoolean());
        assertEquals("success", call.get("outcome").asText());
    }

    @Test
    void theFunctionUrlWithTheAsyncHeaderKeepsMethodPathQueryAndHeaders() throws Exception {
        JsonNode fn = create("{\"name\":\"echo\",\"image\":\"granda/hello\"}");
        String path = fn.get("path").asText();
        HttpTestServer.Reply r = post(path + "/orders?x=1", "event body", "X-Granda-Invoke", "async",
                "X-Custom", "kept");
        assertEquals(202, r.status(), r.text());
        JsonNode done = awaitStatus(r.json().get("invocationId").asText(), "succeeded");
        assertEquals("url", done.get("source").asText());
        assertEquals("event body", done.get("result").get("body").asText());
        assertEquals(1, backend.runCalls());

        assertEquals(400, post(path, "x", "X-Granda-Invoke", "later").status());
        assertEquals("X-Granda-Invoke", post(path, "x", "X-Granda-Invoke", "later").json().get("field").asText());
        assertEquals(200, post(path, "sync", "X-Granda-Invoke", "sync").status());
    }

    @Test
    void anIdempotencyKeyIsAcceptedOnceAndAnsweredTheSameAfter() throws Exception {
        create("{\"name\":\"pay\",\"image\":\"granda/hello\"}");
        HttpTestServer.Reply first = post("/functions/pay/async", "charge", "Idempotency-Key", "order-1");
        HttpTestServer.Reply again = post("/functions/pay/async", "charge", "Idempotency-Key", "order-1");

        assertEquals(202, again.status());
        assertEquals(first.json().get("invocationId").asText(), again.json().get("invocationId").asText());
        assertTrue(again.json().get("duplicate").asBoolean());
        assertEquals("true", again.header("Idempotent-Replayed"));
        assertEquals(null, first.header("Idempotent-Replayed"));
        awaitStatus(first.json().get("invocationId").asText(), "succeeded");
        assertEquals(1, backend.runCalls());
        HttpTestServer.Reply bad = post("/functions/pay/async", "x", "Idempotency-Key", "has spaces in it");
        assertEquals(400, bad.status());
        assertEquals("idempotencyKey", bad.json().get("field").asText());
    }

    @Test
    void aDeadEventIsListedAndReDrivenThroughTheApi() throws Exception {
        create("{\"name\":\"broken\",\"image\":\"granda/hello\",\"env\":{\"BEHAVIOUR\":\"fail\"}}");
        HttpTestServer.Reply config = http.json("PUT", "/functions/broken/async-config",
                "{\"maxAttempts\":2,\"initialBackoffMs\":0,\"maxBackoffMs\":0}");
        assertEquals(200, config.status(), config.text());
        assertEquals(2, config.json().get("maxAttempts").asInt());
        assertEquals(10, config.json().get("concurrency").asInt(), "unnamed fields keep their values");

        String id = post("/functions/broken/async", "x").json().get("invocationId").asText();
        JsonNode dead = awaitStatus(id, "dead");
        assertEquals(2, dead.get("attempts").asInt());
        assertTrue(dead.get("error").asText().contains("exit code 4"), dead.toString());
        assertEquals("bad day\n", dead.get("result").get("logTail").asText());

        JsonNode letters = http.get("/functions/broken/events?status=dead").json().get("events");
        assertEquals(1, letters.size());
        assertEquals(id, letters.get(0).get("invocationId").asText());
        assertEquals(1, http.get("/events?status=dead&function=broken").json().get("events").size());

        HttpTestServer.Reply redriven = post("/invocations/" + id + "/redrive", "");
        assertEquals(202, redriven.status(), redriven.text());
        awaitStatus(id, "dead");
        assertEquals(4, http.get("/invocations/" + id).json().get("attempts").asInt());
        assertEquals(202, post("/functions/broken/events/redrive", "").status());
        HttpTestServer.Reply notDead = post("/invocations/" + id + "/redrive", "");
        assertTrue(notDead.status() == 404 || notDead.status() == 202, notDead.text());
    }

    @Test
    void badRequestsAreRefusedWithJsonNamingTheFieldAndChangeNothing() {
        create("{\"name\":\"echo\",\"image\":\"granda/hello\"}");
        assertError(http.json("PUT", "/functions/echo/async-config", "{\"maxAttempts\":0}"), 400, "maxAttempts");
        assertError(http.json("PUT", "/functions/echo/async-config", "{\"concurrency\":\"many\"}"), 400,
                "concurrency");
        assertError(http.json("PUT", "/functions/echo/async-config", "{\"schedule\":\"every day\"}"), 400,
                "schedule");
        assertError(http.json("PUT", "/functions/echo/async-config", "{\"retries\":3}"), 400, "retries");
        assertError(http.json("PUT", "/functions/echo/async-config", "{\"callbackUrl\":\"file:///etc/passwd\"}"),
                400, "callbackUrl");
        assertEquals(3, http.get("/functions/echo/async-config").json().get("maxAttempts").asInt(),
                "still the defaults");
        assertError(post("/functions/echo/async", "x", "X-Granda-Callback", "nope"), 400, "callbackUrl");
        assertEquals(404, post("/functions/nobody/async", "x").status());
        assertEquals("function_not_found", post("/functions/nobody/async", "x").json().get("error").asText());
        assertEquals(404, http.get("/invocations/no-such-id").status());
        assertEquals("event_not_found", http.get("/invocations/no-such-id").json().get("error").asText());
        assertEquals(404, post("/invocations/no-such-id/redrive", "").status());
        assertError(http.get("/functions/echo/events?status=lost"), 400, "status");
        assertError(http.get("/functions/echo/events?limit=0"), 400, "limit");
        assertEquals(405, http.get("/functions/echo/async").status());
        assertEquals(0, http.get("/functions/echo/events").json().get("events").size(), "nothing was accepted");
        assertEquals(0, backend.runCalls());
    }

    private static void assertError(HttpTestServer.Reply r, int status, String field) {
        assertEquals(status, r.status(), r.text());
        assertNotNull(r.json().get("error"), r.text());
        assertEquals(field, r.json().get("field").asText(), r.text());
    }

    @Test
    void aTenantSeesAndDrivesOnlyItsOwnFunctionsEvents() throws Exception {
        assertEquals(201, http.json("POST", "/tenants", "{\"id\":\"acme\"}").status());
        assertEquals(201, http.json("POST", "/tenants", "{\"id\":\"globex\"}").status());
        HttpTestServer acme = http.as(http.json("POST", "/tenants/acme/keys", "{}").json().get("key").asText());
        HttpTestServer globex = http.as(http.json("POST", "/tenants/globex/keys", "{}").json().get("key").asText());
        assertEquals(201, acme.json("POST", "/functions", "{\"name\":\"orders\",\"image\":\"granda/hello\"}").status());
        String id = post(acme, "/functions/orders/async", "mine").json().get("invocationId").asText();
        awaitStatus(id, "succeeded");

        assertEquals(404, post(globex, "/functions/orders/async", "x").status(), "another tenant's function");
        assertEquals(404, globex.get("/invocations/" + id).status());
        assertEquals(404, post(globex, "/invocations/" + id + "/redrive", "").status());
        assertEquals(404, globex.get("/functions/orders/events").status());
        assertEquals(404, globex.get("/functions/orders/async-config").status());
        assertEquals(404, globex.json("PUT", "/functions/orders/async-config", "{\"maxAttempts\":1}").status());
        assertEquals(400, globex.get("/events").status(), "a tenant key lists one function at a time");
        assertEquals(404, globex.get("/events?function=orders").status());
        assertEquals(200, acme.get("/invocations/" + id).status());
        assertEquals(1, acme.get("/events?function=orders").json().get("events").size());
        assertEquals(401, http.as(null).get("/invocations/" + id).status(), "no key, no answer");
        assertEquals(401, post(http.as(null), "/functions/orders/async", "x").status());
        assertEquals(3, http.get("/functions/orders/async-config").json().get("maxAttempts").asInt(),
                "unchanged by the refused PUT");
    }

    @Test
    void withoutAnEventEngineAsyncIsRefusedAndSyncRecordsAreStillFound() {
        http.close();
        http = new HttpTestServer(Granda.builder().backend(backend).build(), GrandaHttpConfig.DEFAULTS);
        JsonNode fn = create("{\"name\":\"echo\",\"image\":\"granda/hello\"}");
        HttpTestServer.Reply r = post(fn.get("path").asText(), "x", "X-Granda-Invoke", "async");
        assertEquals(400, r.status());
        assertEquals("async_disabled", r.json().get("error").asText());
        assertEquals(404, post("/functions/echo/async", "x").status());
        HttpTestServer.Reply call = post(fn.get("path").asText(), "x");
        String id = call.header("X-Granda-Invocation-Id");
        assertEquals(200, http.get("/invocations/" + id).status());
        assertEquals(new String("x".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8), call.text());
    }
}
