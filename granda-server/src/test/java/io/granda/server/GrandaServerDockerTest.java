package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The standalone server end to end: real Docker engine, real SQLite file, real HTTP. The images come from
 * scripts/build-images.sh (run by ./granda test).
 */
class GrandaServerDockerTest {

    @TempDir
    Path dataDir;
    private String ownerId;
    private GrandaServer server;
    private ServerHarness http;

    @BeforeEach
    void start() {
        ownerId = "test-server-" + UUID.randomUUID().toString().substring(0, 8);
        server = startServer();
    }

    private GrandaServer startServer() {
        GrandaServer s = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key", ServerHarness.ADMIN_KEY,
                "--port", "0", "--host", "127.0.0.1",
                "--data-dir", dataDir.toString(), "--owner-id", ownerId}, Map.of()));
        http = new ServerHarness(s.port());
        return s;
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

    private String create(String json) {
        ServerHarness.Reply r = http.createFunction(json);
        assertEquals(201, r.status(), r.body());
        return r.json().get("url").asText();
    }

    @Test
    void theDemoFunctionGreetsWhoeverThePayloadNames() {
        String url = create("{\"name\":\"hello\",\"image\":\"granda/hello\"}");
        ServerHarness.Reply r = http.call(url, "World");
        assertEquals(200, r.status(), r.body());
        assertEquals("Hello, World!\n", r.body());
        assertEquals("true", r.header("X-Granda-Cold"));

        JsonNode calls = http.get("/functions/hello/invocations").json().get("items");
        assertEquals(1, calls.size());
        JsonNode call = calls.get(0);
        assertEquals("success", call.get("outcome").asText());
        assertEquals(0, call.get("exitCode").asInt());
        assertEquals(5, call.get("requestBytes").asLong());
        assertEquals(14, call.get("responseBytes").asLong());
        assertTrue(call.get("billedMs").asLong() >= 1);
        assertTrue(Docker.containersOf(ownerId).isEmpty(), "the call's container is removed");
    }

    @Test
    void keysAreRequiredByDefaultAndTenantsAreKeptApartInTheStore() throws Exception {
        ServerHarness anonymous = new ServerHarness(server.port(), null);
        ServerHarness.Reply refused = anonymous.createFunction("{\"name\":\"sneaky\",\"image\":\"granda/hello\"}");
        assertEquals(401, refused.status(), refused.body());
        assertEquals("unauthorized", refused.json().get("error").asText());
        assertEquals(200, anonymous.get("/health").status(), "health needs no key");

        assertEquals(201, http.send("POST", "/tenants", "application/json", "{\"id\":\"acme\"}").status());
        String acmeKey = http.send("POST", "/tenants/acme/keys", "application/json", "{}").json().get("key").asText();
        ServerHarness acme = new ServerHarness(server.port(), acmeKey);
        // The path, not the URL: the port changes with the restart below.
        String url = acme.createFunction("{\"name\":\"acme-hello\",\"image\":\"granda/hello\",\"private\":true}")
                .json().get("path").asText();
        create("{\"name\":\"admins-hello\",\"image\":\"granda/hello\"}");

        assertEquals(401, anonymous.call(url, "World").status(), "private: a key is needed");
        ServerHarness.Reply call = acme.call(url, "World");
        assertEquals(200, call.status(), call.body());
        assertEquals("Hello, World!\n", call.body());
        assertEquals(1, acme.get("/functions").json().get("items").size(), "acme sees its own only");
        assertEquals(404, acme.get("/functions/admins-hello").status());
        assertEquals(2, http.get("/functions").json().get("items").size(), "the admin sees both");

        // After a restart, from the SQLite store: the same tenants, owners, keys and privacy.
        server.close();
        server = startServer();
        acme = new ServerHarness(server.port(), acmeKey);
        assertEquals("acme", acme.get("/functions/acme-hello").json().get("tenant").asText());
        assertTrue(acme.get("/functions/acme-hello").json().get("private").asBoolean());
        assertEquals(404, acme.get("/functions/admins-hello").status());
        assertEquals(401, new ServerHarness(server.port(), null).call(url, "x").status());
        JsonNode usage = http.get("/usage?tenant=acme").json();
        assertEquals(1, usage.get("calls").asLong());
    }

    @Test
    void anInvokerKeyCallsOnlyThePrivateFunctionsItNamesAndNothingElse() {
        assertEquals(201, http.send("POST", "/tenants", "application/json", "{\"id\":\"acme\"}").status());
        String acmeKey = http.send("POST", "/tenants/acme/keys", "application/json", "{}").json().get("key").asText();
        ServerHarness acme = new ServerHarness(server.port(), acmeKey);
        String cat = ",\"image\":\"granda-test-busybox\",\"env\":{\"SCRIPT\":\"cat\"},\"private\":true}";
        // Paths, not URLs: the port changes with the restart below.
        String a = acme.createFunction("{\"name\":\"a\"" + cat).json().get("path").asText();
        String b = acme.createFunction("{\"name\":\"b\"" + cat).json().get("path").asText();
        ServerHarness.Reply made = acme.send("POST", "/tenants/acme/keys", "application/json",
                "{\"role\":\"invoker\",\"name\":\"app\",\"functions\":[\"a\"]}");
        assertEquals(201, made.status(), made.body());
        String invokerKey = made.json().get("key").asText();

        for (int start = 0; start < 2; start++) {
            ServerHarness invoker = new ServerHarness(server.port(), invokerKey);
            ServerHarness.Reply callA = invoker.call(a, "only a " + start);
            assertEquals(200, callA.status(), callA.body());
            assertEquals("only a " + start, callA.body(), "echoed by the function's container");
            ServerHarness.Reply callB = invoker.call(b, "not b");
            assertEquals(403, callB.status(), callB.body());
            assertEquals("function_not_in_key_scope", callB.json().get("error").asText());
            JsonNode me = invoker.get("/whoami").json();
            assertEquals("invoker", me.get("role").asText());
            assertEquals("[\"a\"]", me.get("functions").toString());
            for (ServerHarness.Reply refused : java.util.List.of(invoker.get("/functions"),
                    invoker.createFunction("{\"name\":\"sneaky\",\"image\":\"granda-test-busybox\"}"),
                    invoker.send("DELETE", "/functions/a", null, null),
                    invoker.send("POST", "/tenants/acme/keys", "application/json", "{\"role\":\"tenant\"}"))) {
                assertEquals(403, refused.status(), refused.body());
                assertEquals("invoke_only_key", refused.json().get("error").asText());
            }
            // From the SQLite store after a restart too: the role and the list are kept.
            server.close();
            server = startServer();
            acme = new ServerHarness(server.port(), acmeKey);
        }
        assertEquals(2, acme.get("/functions").json().get("items").size(), "a and b are still there");
        assertEquals(0, acme.get("/functions/b/invocations").json().get("items").size(), "b never ran");
        assertEquals(2, acme.get("/functions/a/invocations").json().get("items").size());
    }

    /** Run mode too: a call's CPU time is its container's, read from a cgroup of the call's own after it exited. */
    @Test
    void aRunModeCallRecordsTheCpuTimeItUsedNotItsWallTime() {
        String script = "if [ \\\"$1\\\" = spin ]; then i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done;"
                + " else sleep 0.3; fi; echo $1";
        String url = create("{\"name\":\"counter\",\"image\":\"granda-test-busybox\",\"env\":{\"SCRIPT\":\""
                + script + "\"}}");
        assertEquals("spin\n", http.call(url, "spin").body());
        assertEquals("rest\n", http.call(url, "rest").body());
        JsonNode items = http.get("/functions/counter/invocations?limit=2").json().get("items");
        double restedMs = items.get(0).get("cpuMs").asDouble(-1);
        double spunMs = items.get(1).get("cpuMs").asDouble(-1);
        assertTrue(spunMs > 20 && spunMs <= items.get(1).get("runMs").asDouble() + 50, "counting: " + items.get(1));
        assertTrue(restedMs >= 0 && restedMs < 50, "sleeping: " + items.get(0));
        assertEquals((spunMs + restedMs) / 1000,
                http.get("/functions/counter/usage").json().get("cpuSeconds").asDouble(), 0.002);
    }

    @Test
    void thePayloadIsAlsoOnStdin() {
        String url = create("{\"name\":\"cat\",\"image\":\"granda-test-busybox\",\"env\":{\"SCRIPT\":\"cat\"}}");
        ServerHarness.Reply r = http.call(url, "line one\nline two");
        assertEquals(200, r.status(), r.body());
        assertEquals("line one\nline two", r.body());
    }

    @Test
    void exitCodeThreeIs502WithTheLogAndIsRecordedAsAnError() {
        String url = create("{\"name\":\"fails\",\"image\":\"granda-test-busybox\","
                + "\"env\":{\"SCRIPT\":\"echo partial; echo oops >&2; exit 3\"}}");
        ServerHarness.Reply r = http.call(url, "x");
        assertEquals(502, r.status(), r.body());
        assertEquals("function_error", r.json().get("error").asText());
        assertEquals(3, r.json().get("exitCode").asInt());
        assertEquals("oops\n", r.json().get("logTail").asText());
        assertEquals("partial\n", r.json().get("output").asText());

        JsonNode call = http.get("/functions/fails/invocations").json().get("items").get(0);
        assertEquals("function_error", call.get("outcome").asText());
        assertEquals(3, call.get("exitCode").asInt());
        assertEquals(1, http.get("/functions/fails/usage").json().get("errors").asLong());
    }

    @Test
    void aFunctionSleepingPastItsTimeoutIs504AndLeavesNoContainer() {
        String url = create("{\"name\":\"sleepy\",\"image\":\"granda-test-busybox\",\"timeoutSeconds\":1,"
                + "\"env\":{\"SCRIPT\":\"sleep 30\"}}");
        long start = System.nanoTime();
        ServerHarness.Reply r = http.call(url, "");
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(504, r.status(), r.body());
        assertEquals("timeout", r.json().get("error").asText());
        // The contract: the caller hears about the timeout within 2 s of asking, not after the 30 s sleep.
        assertTrue(elapsedMs < 2000, "504 took " + elapsedMs + " ms");
        assertTrue(Docker.containersOf(ownerId).isEmpty(), "the timed-out container is removed");
        assertEquals(1, http.get("/functions/sleepy/usage").json().get("timeouts").asLong());
    }

    @Test
    void aMemoryHogEndsOutOfMemory() {
        String url = create("{\"name\":\"hog\",\"image\":\"granda-test-busybox\",\"memoryMb\":16,"
                + "\"env\":{\"SCRIPT\":\"head -c 200m /dev/zero | tail\"}}");
        ServerHarness.Reply r = http.call(url, "");
        assertEquals(502, r.status(), r.body());
        assertEquals("out_of_memory", r.json().get("error").asText());
    }

    @Test
    void anImageThatCannotBePulledIsRefusedNamingTheImage() {
        ServerHarness.Reply r = http.createFunction("{\"name\":\"ghost\",\"image\":\"granda-no-such-image:1\"}");
        assertEquals(422, r.status(), r.body());
        assertEquals("image_unavailable", r.json().get("error").asText());
        assertTrue(r.json().get("message").asText().contains("granda-no-such-image:1"), r.body());
        assertEquals(404, http.get("/functions/ghost").status());
    }

    @Test
    void aRestartedServerKeepsEveryFunctionAndItsUrl() {
        String url = create("{\"name\":\"durable\",\"image\":\"granda/hello\",\"description\":\"survives\"}");
        assertEquals(200, http.call(url, "before").status());
        server.close();

        server = startServer();
        assertEquals("survives", http.get("/functions/durable").json().get("description").asText());
        String path = URI.create(url).getPath();
        ServerHarness.Reply r = http.call(path, "after");
        assertEquals(200, r.status(), r.body());
        assertEquals("Hello, after!\n", r.body());
        assertEquals(2, http.get("/functions/durable/invocations").json().get("items").size(),
                "calls from before the restart are kept");
    }

    @Test
    void aLeftoverContainerOfThisOwnerIsRemovedAtStartUp() {
        server.close();
        server = null;
        String leftover = Docker.run("create", "--network", "none", "--label", "io.granda.owner=" + ownerId,
                "granda-test-busybox");
        String stranger = Docker.run("create", "--network", "none", "--label", "io.granda.owner=someone-else-" + ownerId,
                "granda-test-busybox");
        try {
            assertEquals(1, Docker.containersOf(ownerId).size());
            server = startServer();
            assertTrue(Docker.containersOf(ownerId).isEmpty(), "leftover " + leftover + " was reaped");
            assertFalse(Docker.run("ps", "-aq", "--no-trunc", "--filter", "id=" + stranger).isEmpty(),
                    "another owner's container is left alone");
        } finally {
            Docker.run("rm", "-f", stranger);
        }
    }

    @Test
    void theOriginalApiWorksAgainstRealContainers() {
        ServerHarness.Reply created = http.send("POST", "/createFunc", "application/x-www-form-urlencoded",
                "name=tweet&description=Send+a+tweet&image=granda%2Fhello&time=15");
        assertEquals(200, created.status(), created.body());
        assertTrue(created.json().get("status").asBoolean());
        String path = created.json().get("path").asText();
        assertTrue(path.startsWith(http.base() + "/f/tweet-"), path);
        ServerHarness.Reply call = http.call(path, "#devopsdaysaustin");
        assertEquals("Hello, #devopsdaysaustin!\n", call.body());
        assertEquals(1, http.get("/funcInvocationCount?funcname=tweet&duration=60").json().get("count").asInt());
        JsonNode row = http.get("/invocationDetails?function=tweet").json().get("data").get(0);
        assertEquals("tweet", row.get(0).asText());
        assertEquals("Success", row.get(3).asText());
    }

    @Test
    void healthReportsTheEngineAndTheStore() {
        ServerHarness.Reply r = http.get("/health");
        assertEquals(200, r.status(), r.body());
        assertEquals("UP", r.json().get("checks").get("backend").get("status").asText());
        assertEquals("UP", r.json().get("checks").get("store").get("status").asText(), r.body());
    }
}
