package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Asynchronous invocations end to end: the standalone server, a real Docker engine, a real SQLite file. Retries
 * follow the policy, a failing function's event ends dead and is re-driven, schedules fire, callbacks arrive, and a
 * flood of events leaves room for synchronous calls; {@code GET /metrics} shows the dead letters the API lists.
 * (Surviving a kill -9: {@link AsyncDurabilityIT}.)
 */
@Timeout(180)
class GrandaServerAsyncTest {

    @TempDir
    Path dataDir;
    private String ownerId;
    private GrandaServer server;
    private ServerHarness http;
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        ownerId = "test-async-" + UUID.randomUUID().toString().substring(0, 8);
        server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key", ServerHarness.ADMIN_KEY,
                "--port", "0", "--host", "127.0.0.1",
                "--data-dir", dataDir.toString(), "--owner-id", ownerId}, Map.of()));
        http = new ServerHarness(server.port());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        for (String id : Docker.containersOf(ownerId)) {
            Docker.run("rm", "-f", id);
        }
    }

    private JsonNode create(String json) {
        ServerHarness.Reply r = http.createFunction(json);
        assertEquals(201, r.status(), r.body());
        return r.json();
    }

    private void config(String name, String json) {
        ServerHarness.Reply r = http.send("PUT", "/functions/" + name + "/async-config", "application/json", json);
        assertEquals(200, r.status(), r.body());
    }

    private String submit(String name, String payload) {
        ServerHarness.Reply r = http.send("POST", "/functions/" + name + "/async", "text/plain", payload);
        assertEquals(202, r.status(), r.body());
        return r.json().get("invocationId").asText();
    }

    private JsonNode event(String id) {
        return http.get("/invocations/" + id).json();
    }

    /**
     * Scrapes {@code GET /metrics} (open on this server: no --metrics-key) into series named as Prometheus names
     * them, labels sorted, e.g. {@code granda_events{status="dead"}}.
     */
    private Map<String, Double> scrape() {
        ServerHarness.Reply r = http.get("/metrics");
        assertEquals(200, r.status(), r.body());
        Map<String, Double> samples = new java.util.HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String series = line.substring(0, space);
            int brace = series.indexOf('{');
            if (brace >= 0) {
                // Label values here hold no commas or quotes, so a split is enough to put them in order.
                List<String> labels = new ArrayList<>(List.of(series.substring(brace + 1, series.length() - 1)
                        .split(",")));
                labels.sort(null);
                series = series.substring(0, brace) + "{" + String.join(",", labels) + "}";
            }
            samples.put(series, Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    private double metric(String series) {
        return scrape().getOrDefault(series, Double.NaN);
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within 60 s: " + what);
            Thread.sleep(50);
        }
    }

    @Test
    void aFailingFunctionIsRetriedWithBackoffThenDeadThenReDrivenAfterAFix() throws Exception {
        create("{\"name\":\"flaky\",\"image\":\"granda-test-busybox\",\"env\":{\"SCRIPT\":\"echo broken >&2; exit 3\"}}");
        config("flaky", "{\"maxAttempts\":3,\"initialBackoffMs\":300,\"maxBackoffMs\":5000}");
        String id = submit("flaky", "order-7");

        eventually("the event is dead", () -> event(id).get("status").asText().equals("dead"));
        JsonNode dead = event(id);
        assertEquals(3, dead.get("attempts").asInt());
        assertTrue(dead.get("error").asText().startsWith("attempts used up (3 of 3): function_error: exit code 3"),
                dead.toString());
        assertTrue(dead.get("result").get("logTail").asText().contains("broken"), dead.toString());
        // The three attempts are three metered calls, spaced by the policy's backoff: 300 ms, then 600 ms.
        List<Instant> starts = new ArrayList<>();
        http.get("/functions/flaky/invocations").json().get("items")
                .forEach(r -> starts.add(Instant.parse(r.get("start").asText())));
        assertEquals(3, starts.size());
        starts.sort(null);
        assertTrue(Duration.between(starts.get(0), starts.get(1)).toMillis() >= 300, starts.toString());
        assertTrue(Duration.between(starts.get(1), starts.get(2)).toMillis() >= 600, starts.toString());
        JsonNode letters = http.get("/functions/flaky/events?status=dead").json().get("events");
        assertEquals(1, letters.size());

        // /metrics: the dead-letter gauge equals the dead events the API lists (read at most every 2 s, hence the
        // wait), and the counters say how it got there.
        int deadListed = http.get("/events?status=dead&limit=1000").json().get("events").size();
        assertEquals(1, deadListed);
        eventually("granda_events{status=\"dead\"} is " + deadListed, () -> metric("granda_events{status=\"dead\"}")
                == deadListed);
        Map<String, Double> samples = scrape();
        String flaky = "function=\"flaky\",";
        assertEquals(3.0, samples.get("granda_event_attempts_total{" + flaky + "outcome=\"failed\","
                + "tenant=\"default\"}"), samples.toString());
        assertEquals(0.0, samples.get("granda_event_attempts_total{" + flaky + "outcome=\"succeeded\","
                + "tenant=\"default\"}"));
        assertEquals(1.0, samples.get("granda_events_dead_total{" + flaky + "reason=\"attempts_exhausted\","
                + "tenant=\"default\"}"));
        assertEquals(0.0, samples.get("granda_events{status=\"queued\"}"));
        assertEquals(0.0, samples.get("granda_events_oldest_due_age_seconds"));

        // Fixed: the same function, a new revision; the re-driven event runs it.
        ServerHarness.Reply fixed = http.send("PUT", "/functions/flaky", "application/json",
                "{\"image\":\"granda-test-busybox\",\"env\":{\"SCRIPT\":\"echo fixed $1\"}}");
        assertEquals(200, fixed.status(), fixed.body());
        assertEquals(202, http.send("POST", "/invocations/" + id + "/redrive", null, null).status());
        eventually("the re-driven event succeeds", () -> event(id).get("status").asText().equals("succeeded"));
        assertEquals("fixed order-7\n", event(id).get("result").get("body").asText());
        assertEquals(4, event(id).get("attempts").asInt());
        eventually("no dead event on /metrics after the re-drive", () -> metric("granda_events{status=\"dead\"}") == 0.0
                && http.get("/events?status=dead").json().get("events").isEmpty());
        assertEquals(1.0, metric("granda_event_attempts_total{" + flaky + "outcome=\"succeeded\",tenant=\"default\"}"));
    }

    @Test
    void aCronScheduleFiresEachTimeItsDue() throws Exception {
        create("{\"name\":\"ticker\",\"image\":\"granda-hot-echo\",\"mode\":\"hot\"}");
        config("ticker", "{\"schedule\":\"*/2 * * * * *\"}");

        eventually("three firings ran", () -> http.get("/functions/ticker/events?status=succeeded").json()
                .get("events").size() >= 3);
        config("ticker", "{\"schedule\":null}");
        List<Instant> scheduled = new ArrayList<>();
        for (JsonNode e : http.get("/functions/ticker/events").json().get("events")) {
            assertEquals("schedule", e.get("source").asText());
            JsonNode body = ServerHarness.JSON.readTree(e.get("result").get("body").asText());
            Instant at = Instant.parse(body.get("scheduledTime").asText());
            assertEquals(0, at.getEpochSecond() % 2, "fires on even seconds: " + at);
            assertTrue(!Instant.parse(e.get("startedAt").asText()).isBefore(at), "never before its time: " + e);
            scheduled.add(at);
        }
        scheduled.sort(null);
        for (int i = 1; i < scheduled.size(); i++) {
            assertEquals(Duration.ofSeconds(2), Duration.between(scheduled.get(i - 1), scheduled.get(i)),
                    "one event per firing: " + scheduled);
        }
        int fired = scheduled.size();
        Thread.sleep(2_500);
        assertEquals(fired, http.get("/functions/ticker/events").json().get("events").size(),
                "no firing after the schedule was removed");
    }

    @Test
    void aFinishedEventIsPostedToItsCallback() throws Exception {
        BlockingQueue<String> received = new ArrayBlockingQueue<>(4);
        HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/done", exchange -> {
            received.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        hook.start();
        try {
            create("{\"name\":\"echo\",\"image\":\"granda-hot-echo\",\"mode\":\"hot\"}");
            String path = http.get("/functions/echo").json().get("path").asText();
            // /headers: hot-echo answers the request's headers, one a line, so the result shows what it received.
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(http.base() + path + "/headers"))
                    .header("X-Granda-Invoke", "async")
                    .header("Authorization", "Basic bm90LWZvci10aGUtZnVuY3Rpb24=")
                    .header("X-Custom", "kept")
                    .header("X-Granda-Callback", "http://127.0.0.1:" + hook.getAddress().getPort() + "/done")
                    .POST(HttpRequest.BodyPublishers.ofString("call me back")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, r.statusCode(), r.body());
            String body = received.poll(30, TimeUnit.SECONDS);
            assertNotNull(body, "the callback arrived");
            JsonNode e = ServerHarness.JSON.readTree(body);
            assertEquals("succeeded", e.get("status").asText());
            String id = e.get("invocationId").asText();
            String seen = e.get("result").get("body").asText().toLowerCase(java.util.Locale.ROOT);
            assertTrue(seen.contains("x-custom: kept"), seen);
            assertTrue(seen.contains("x-granda-event-id: " + id.toLowerCase(java.util.Locale.ROOT)), seen);
            assertTrue(seen.contains("x-granda-event-attempt: 1"), seen);
            // Public function URL: a caller's own Authorization of another scheme reaches the function, as in a sync call.
            assertTrue(seen.contains("authorization: basic"), seen);
            eventually("the callback is recorded", () -> "delivered 200".equals(event(id).path("callbackStatus")
                    .asText()));
        } finally {
            hook.stop(0);
        }
    }

    @Test
    void aFloodOfEventsLeavesRoomForSyncCalls() throws Exception {
        JsonNode fn = create("{\"name\":\"busy\",\"image\":\"granda-hot-echo\",\"mode\":\"hot\",\"maxInstances\":4}");
        config("busy", "{\"concurrency\":2}");
        String path = fn.get("path").asText();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(http.base() + path + "/sleep/40"))
                    .header("X-Granda-Invoke", "async").POST(HttpRequest.BodyPublishers.ofString("e" + i)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, r.statusCode(), r.body());
            ids.add(ServerHarness.JSON.readTree(r.body()).get("invocationId").asText());
        }
        // While the events drain (two at a time for about 3 s), sync calls of the same function are all answered.
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            long t0 = System.nanoTime();
            ServerHarness.Reply r = http.call(path, "sync-" + i);
            millis.add((System.nanoTime() - t0) / 1_000_000);
            assertEquals(200, r.status(), r.body());
            assertEquals("sync-" + i, r.body());
            int running = http.get("/functions/busy/events?status=running").json().get("events").size();
            assertTrue(running <= 2, "at most the function's async concurrency runs: " + running);
        }
        int pending = http.get("/functions/busy/events?status=queued&limit=1000").json().get("events").size();
        assertTrue(pending > 0, "the sync calls ran while events were still queued");
        millis.sort(null);
        System.out.printf("sync calls during an event flood: p50 %d ms, max %d ms, %d events still queued%n",
                millis.get(millis.size() / 2), millis.getLast(), pending);
        eventually("every event succeeded", () -> http.get("/functions/busy/events?status=succeeded&limit=1000")
                .json().get("events").size() == ids.size());
    }
}
