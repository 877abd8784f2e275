package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hot functions end to end: the standalone server, a real Docker engine and the locally built granda-hot-echo image
 * (images/hot-echo), which answers the hot protocol and reports what it saw in X-Echo-* headers.
 */
class GrandaServerHotTest {

    private static final String IMAGE = "granda-hot-echo";

    @TempDir
    Path dataDir;
    private String ownerId;
    private GrandaServer server;
    private ServerHarness http;

    @BeforeEach
    void start() {
        ownerId = "test-hot-" + UUID.randomUUID().toString().substring(0, 8);
        server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key", ServerHarness.ADMIN_KEY,
                "--port", "0", "--host", "127.0.0.1",
                "--data-dir", dataDir.toString(), "--owner-id", ownerId, "--start-timeout-seconds", "3"}, Map.of()));
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

    private String hot(String name, String extra) {
        return create("{\"name\":\"" + name + "\",\"image\":\"" + IMAGE + "\",\"mode\":\"hot\"" + extra + "}")
                .get("path").asText();
    }

    private JsonNode instances(String name) {
        return http.get("/functions/" + name + "/instances").json().get("items");
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within 20 s: " + what);
            Thread.sleep(50);
        }
    }

    @Test
    void theFirstCallIsColdAndTheNextOnesAreWarmOnTheSameInstance() {
        String path = hot("echo", "");
        ServerHarness.Reply first = http.call(path, "hello");
        assertEquals(200, first.status(), first.body());
        assertEquals("hello", first.body());
        assertEquals("true", first.header("X-Granda-Cold"));
        String instance = first.header("X-Echo-Instance");

        ServerHarness.Reply second = http.call(path, "again");
        assertEquals("again", second.body());
        assertEquals("false", second.header("X-Granda-Cold"));
        assertEquals(instance, second.header("X-Echo-Instance"), "the warm call reuses the instance");
        assertEquals("2", second.header("X-Echo-Served"));

        JsonNode calls = http.get("/functions/echo/invocations").json().get("items");
        JsonNode warm = calls.get(0);
        JsonNode cold = calls.get(1);
        assertTrue(cold.get("cold").asBoolean());
        assertTrue(cold.get("startMs").asDouble() > 0, cold.toString());
        assertTrue(cold.get("initMs").asDouble() >= 0, cold.toString());
        assertFalse(warm.get("cold").asBoolean());
        assertEquals(0.0, warm.get("startMs").asDouble());
        assertEquals(0.0, warm.get("initMs").asDouble());
        assertEquals(1, instances("echo").size());
        assertEquals("ready", instances("echo").get(0).get("state").asText());
    }

    @Test
    void aPrivateFunctionNeedsAKeyAndNoGrandaKeyEverReachesTheFunction() throws Exception {
        String path = hot("private-echo", ",\"private\":true");
        ServerHarness anonymous = new ServerHarness(server.port(), null);
        assertEquals(401, anonymous.call(path + "/headers", "x").status());
        assertEquals("Bearer realm=\"granda\"", anonymous.call(path, "x").header("WWW-Authenticate"));

        // The caller's key (here the admin's) authorises the call and is taken out of what the function sees.
        HttpRequest request = http.request(path + "/headers")
                .header("X-Granda-Key", ServerHarness.ADMIN_KEY)
                .header("X-Custom", "kept")
                .GET().build();
        var r = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        String seen = r.body().toLowerCase(java.util.Locale.ROOT);
        assertTrue(seen.contains("x-custom: kept"), r.body());
        assertFalse(seen.contains("authorization"), "the function saw the caller's key: " + r.body());
        assertFalse(seen.contains("x-granda-key"), r.body());
        assertFalse(r.body().contains(ServerHarness.ADMIN_KEY.substring(13)), r.body());

        // A public function's own Authorization scheme passes through; a Granda key sent to it does not.
        String open = hot("public-echo", "");
        var basic = java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(http.base()
                        + open + "/headers")).header("Authorization", "Basic dXNlcjpwYXNz").GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, basic.statusCode(), basic.body());
        assertTrue(basic.body().contains("Basic dXNlcjpwYXNz"), basic.body());
        ServerHarness.Reply stray = http.send("GET", open + "/headers", null, null);
        assertEquals(200, stray.status(), stray.body());
        assertFalse(stray.body().contains(ServerHarness.ADMIN_KEY.substring(13)), stray.body());
    }

    @Test
    void methodPathQueryHeadersAndBodyReachTheFunctionAndItsAnswerComesBackAsSent() throws Exception {
        String path = hot("http", "");
        HttpRequest request = http.request(path + "/status/201?x=1&y=%2F")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"a\":1}"))
                .header("Content-Type", "application/json")
                .header("X-Echo-Header", "X-Custom")
                .header("X-Custom", "custom value")
                .header("Granda-Call-Id", "forged")
                .build();
        var r = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("{\"a\":1}", r.body());
        assertEquals("PATCH", r.headers().firstValue("X-Echo-Method").orElseThrow());
        assertEquals("/status/201", r.headers().firstValue("X-Echo-Path").orElseThrow());
        assertEquals("x=1&y=%2F", r.headers().firstValue("X-Echo-Query").orElseThrow());
        assertEquals("custom value", r.headers().firstValue("X-Echo-Header-Value").orElseThrow());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        String callId = r.headers().firstValue("X-Granda-Invocation-Id").orElseThrow();
        assertEquals(callId, r.headers().firstValue("X-Echo-Call-Id").orElseThrow(),
                "the function gets Granda's call id, never the caller's forged one");
        assertFalse(r.headers().firstValue("X-Echo-Deadline").orElseThrow().isEmpty());
        assertEquals("10000", r.headers().firstValue("X-Echo-Timeout-Ms").orElseThrow());
    }

    /** A call's CPU time comes from the container's cgroup: a call spinning 250 ms of CPU is billed about that. */
    @Test
    void eachCallRecordsTheCpuTimeItUsedNotItsWallTime() {
        String path = hot("cpu", "");
        assertEquals(200, http.call(path + "/spin/250", "").status());
        assertEquals(200, http.call(path + "/sleep/250", "").status());
        JsonNode items = http.get("/functions/cpu/invocations?limit=2").json().get("items");
        double sleptMs = items.get(0).get("cpuMs").asDouble();
        double spunMs = items.get(1).get("cpuMs").asDouble();
        assertTrue(spunMs >= 230 && spunMs < 1000, "spinning 250 ms recorded " + spunMs + " ms of CPU");
        assertTrue(sleptMs >= 0 && sleptMs < 50, "sleeping 250 ms recorded " + sleptMs + " ms of CPU");
        double cpuSeconds = http.get("/functions/cpu/usage").json().get("cpuSeconds").asDouble();
        assertEquals((spunMs + sleptMs) / 1000, cpuSeconds, 0.002);
    }

    @Test
    void aServerErrorOfTheFunctionIsPassedThroughRecordedAsAnErrorAndTheInstanceKept() {
        String path = hot("five", "");
        ServerHarness.Reply r = http.call(path + "/status/503", "overloaded");
        assertEquals(503, r.status());
        assertEquals("overloaded", r.body());
        String instance = r.header("X-Echo-Instance");
        assertEquals(instance, http.call(path, "x").header("X-Echo-Instance"), "a 5xx answer does not cost the instance");
        assertEquals(1, http.get("/functions/five/usage").json().get("errors").asLong());
    }

    @Test
    void anUpdateIsServedByTheNewRevisionAndTheOldInstanceGoes() throws Exception {
        String path = hot("rev", "");
        assertEquals("1", http.call(path, "a").header("X-Echo-Revision"));
        ServerHarness.Reply updated = http.send("PUT", "/functions/rev", "application/json",
                "{\"image\":\"" + IMAGE + "\",\"mode\":\"hot\",\"env\":{\"V\":\"2\"}}");
        assertEquals(200, updated.status(), updated.body());
        ServerHarness.Reply r = http.call(path + "/env/V", "");
        assertEquals("2", r.header("X-Echo-Revision"));
        assertEquals("2", r.body());
        eventually("the revision-1 instance is removed", () -> {
            JsonNode items = instances("rev");
            return items.size() == 1 && items.get(0).get("revision").asLong() == 2;
        });
        eventually("no revision-1 container is left",
                () -> Docker.run("ps", "-aq", "--filter", "label=io.granda.owner=" + ownerId,
                        "--filter", "label=io.granda.revision=1").isEmpty());
    }

    @Test
    void anInstanceThatNeverOpensItsSocketFailsTheCallClearlyAndIsRemoved() throws Exception {
        String path = hot("never", ",\"env\":{\"HOT_ECHO_NEVER_READY\":\"1\"}");
        ServerHarness.Reply r = http.call(path, "x");
        assertEquals(502, r.status(), r.body());
        assertEquals("function_not_ready", r.json().get("error").asText());
        assertTrue(r.json().get("message").asText().contains("did not become ready"), r.body());
        eventually("the container is removed", () -> Docker.containersOf(ownerId).isEmpty());
        assertEquals(0, instances("never").size());
    }

    @Test
    void anInstanceThatExitsAtStartFailsFastWithItsLog() {
        String path = hot("exits", ",\"env\":{\"HOT_ECHO_EXIT_AT_START\":\"4\"}");
        ServerHarness.Reply r = http.call(path, "x");
        assertEquals(502, r.status(), r.body());
        assertEquals("function_not_ready", r.json().get("error").asText());
        assertTrue(r.json().get("logTail").asText().contains("exiting at start"), r.body());
    }

    @Test
    void anInstanceThatDiesMidCallAnswers502AndIsReplaced() throws Exception {
        String path = hot("crashy", "");
        String first = http.call(path, "warm up").header("X-Echo-Instance");
        ServerHarness.Reply crashed = http.call(path + "/crash", "x");
        assertEquals(502, crashed.status(), crashed.body());
        assertEquals("function_error", crashed.json().get("error").asText());
        assertTrue(crashed.json().get("logTail").asText().contains("closed the connection"), crashed.body());
        ServerHarness.Reply next = http.call(path, "after");
        assertEquals(200, next.status(), next.body());
        assertNotEquals(first, next.header("X-Echo-Instance"), "a crashed instance is never reused");
        assertEquals("true", next.header("X-Granda-Cold"));
    }

    @Test
    void garbageOnTheSocketIsAFunctionErrorNotAPlatformCrash() {
        String path = hot("garbage", "");
        ServerHarness.Reply r = http.call(path + "/garbage", "x");
        assertEquals(502, r.status(), r.body());
        assertEquals("function_error", r.json().get("error").asText());
        assertTrue(r.json().get("logTail").asText().contains("not valid HTTP"), r.body());
        assertEquals(200, http.call(path, "still fine").status());
        assertEquals(200, http.get("/health").status());
    }

    @Test
    void aCallPastItsTimeoutIs504AndItsInstanceIsNeverReused() {
        String path = hot("slow", ",\"timeoutSeconds\":1");
        String first = http.call(path, "warm").header("X-Echo-Instance");
        long start = System.nanoTime();
        ServerHarness.Reply r = http.call(path + "/sleep/5000", "x");
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(504, r.status(), r.body());
        assertTrue(ms < 4000, "504 after " + ms + " ms, not after the 5 s sleep");
        ServerHarness.Reply next = http.call(path, "next");
        assertEquals(200, next.status());
        assertNotEquals(first, next.header("X-Echo-Instance"));
        assertEquals(1, http.get("/functions/slow/usage").json().get("timeouts").asLong());
    }

    @Test
    void aBurstOfFirstCallsScalesOutToTheLimitAndEveryCallIsAnswered() throws Exception {
        String path = hot("burst", ",\"maxInstances\":8");
        int callers = 64;
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<ServerHarness.Reply>> replies = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < callers; i++) {
                String payload = "call-" + i;
                replies.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return http.call(path + "/sleep/50", payload);
                }, pool));
            }
            go.countDown();
            Set<String> instancesSeen = new HashSet<>();
            for (int i = 0; i < callers; i++) {
                ServerHarness.Reply r = replies.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r.body());
                assertEquals("call-" + i, r.body());
                assertEquals("1", r.header("X-Echo-Revision"));
                instancesSeen.add(r.header("X-Echo-Instance"));
            }
            assertTrue(instancesSeen.size() <= 8, "at most maxInstances instances: " + instancesSeen.size());
            assertTrue(instancesSeen.size() >= 2, "the pool grew: " + instancesSeen.size());
        }
        assertTrue(instances("burst").size() <= 8);
    }

    @Test
    void idleInstancesGoAfterTheirKeepAliveAndTheMinimumIsKeptWarm() throws Exception {
        String idle = hot("shortlived", ",\"keepAliveSeconds\":1");
        assertEquals(200, http.call(idle, "x").status());
        assertEquals(1, instances("shortlived").size());
        eventually("scaled to zero after the keep-alive", () -> instances("shortlived").isEmpty());

        hot("prewarmed", ",\"minInstances\":2,\"keepAliveSeconds\":1");
        eventually("two instances started without any call", () -> {
            JsonNode items = instances("prewarmed");
            return items.size() == 2 && items.get(0).get("state").asText().equals("ready")
                    && items.get(1).get("state").asText().equals("ready");
        });
        Thread.sleep(2500);
        assertEquals(2, instances("prewarmed").size(), "the minimum outlives the keep-alive");
        ServerHarness.Reply r = http.call(http.get("/functions/prewarmed").json().get("path").asText(), "x");
        assertEquals("false", r.header("X-Granda-Cold"), "a prewarmed instance serves the first call warm");
    }

    @Test
    void deletingAFunctionRemovesItsInstancesAndShutdownRemovesEveryOne() throws Exception {
        String a = hot("gone", "");
        String b = hot("stays", "");
        assertEquals(200, http.call(a, "x").status());
        assertEquals(200, http.call(b, "x").status());
        assertEquals(2, Docker.containersOf(ownerId).size());
        assertEquals(204, http.send("DELETE", "/functions/gone", null, null).status());
        eventually("the deleted function's container is removed", () -> Docker.containersOf(ownerId).size() == 1);
        server.close();
        server = null;
        assertEquals(List.of(), Docker.containersOf(ownerId), "shutdown removes every instance");
    }

    @Test
    void badScalingSettingsAreRefused() {
        for (String[] c : new String[][] {
                {",\"maxInstances\":0", "maxInstances"},
                {",\"maxInstances\":1000", "maxInstances"},
                {",\"minInstances\":5,\"maxInstances\":2", "minInstances"},
                {",\"concurrency\":0", "concurrency"},
                {",\"keepAliveSeconds\":0", "keepAliveSeconds"},
                {",\"keepAliveSeconds\":1.5", "keepAliveSeconds"}}) {
            ServerHarness.Reply r = http.createFunction("{\"name\":\"bad\",\"image\":\"" + IMAGE + "\",\"mode\":\"hot\""
                    + c[0] + "}");
            assertEquals(400, r.status(), c[0] + ": " + r.body());
            assertEquals(c[1], r.json().get("field").asText(), c[0]);
        }
        ServerHarness.Reply runMin = http.createFunction("{\"name\":\"bad\",\"image\":\"" + IMAGE
                + "\",\"minInstances\":1}");
        assertEquals(400, runMin.status());
        assertEquals(404, http.get("/functions/bad").status());
    }
}
