package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.DeployedFunction;
import io.granda.core.Granda;
import io.granda.core.access.ApiKey;
import io.granda.core.access.Role;
import io.granda.http.internal.Authenticator;
import io.granda.testkit.FakeBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 7, access: no state changes without a valid key; a tenant sees and changes only its own functions (another
 * tenant's answer as missing ones); private functions need a key; a revoked key stops working at once; admin routes
 * refuse tenant keys; a reader key only looks; an invoker key only calls its tenant's private functions (those it
 * names, when it names some) and every management route but /whoami refuses it. Against a real Helidon server, a
 * fake backend and the in-memory stores.
 */
class AccessControlTest {

    private FakeBackend backend;
    private HttpTestServer http;
    private HttpTestServer admin;
    private HttpTestServer anonymous;
    private HttpTestServer acme;
    private HttpTestServer globex;
    private String acmeKey;
    private String globexKey;

    @BeforeEach
    void start() {
        backend = new FakeBackend();
        http = new HttpTestServer(Granda.builder().backend(backend)
                // Sends many invalid keys from one address on purpose, to see each refused as such: the limit on
                // failed authentications (AuthFailureThrottleTest) would answer 429 instead.
                .authFailureLimit(0).build(), GrandaHttpConfig.DEFAULTS);
        admin = http;
        anonymous = http.as(null);
        assertEquals(201, admin.json("POST", "/tenants", "{\"id\":\"acme\"}").status());
        assertEquals(201, admin.json("POST", "/tenants", "{\"id\":\"globex\"}").status());
        acmeKey = issue("acme", "{\"name\":\"acme ci\"}");
        globexKey = issue("globex", "{}");
        acme = http.as(acmeKey);
        globex = http.as(globexKey);
    }

    @AfterEach
    void stop() {
        http.close();
    }

    private String issue(String tenant, String body) {
        HttpTestServer.Reply r = admin.json("POST", "/tenants/" + tenant + "/keys", body);
        assertEquals(201, r.status(), r.text());
        return r.json().get("key").asText();
    }

    private JsonNode create(HttpTestServer as, String json) {
        HttpTestServer.Reply r = as.json("POST", "/functions", json);
        assertEquals(201, r.status(), r.text());
        return r.json();
    }

    private static void assertUnauthorized(HttpTestServer.Reply r, String what) {
        assertEquals(401, r.status(), what + ": " + r.text());
        assertEquals("unauthorized", r.json().get("error").asText(), what);
        assertTrue(r.json().get("message").asText().length() > 10, what);
        assertEquals("Bearer realm=\"granda\"", r.header("WWW-Authenticate"), what);
        assertTrue(r.header("Content-Type").startsWith("application/json"), what);
    }

    /** Every route that needs a key, with a body that would change something if it were let through. */
    private static final List<String[]> MANAGEMENT = List.of(
            new String[] {"POST", "/functions", "application/json", "{\"name\":\"sneaky\",\"image\":\"granda/hello\"}"},
            new String[] {"GET", "/functions", null, null},
            new String[] {"GET", "/functions/owned", null, null},
            new String[] {"PUT", "/functions/owned", "application/json", "{\"image\":\"evil/image\"}"},
            new String[] {"DELETE", "/functions/owned", null, null},
            new String[] {"GET", "/functions/owned/invocations", null, null},
            new String[] {"GET", "/functions/owned/usage", null, null},
            new String[] {"GET", "/functions/owned/instances", null, null},
            new String[] {"GET", "/functions/owned/source", null, null},
            new String[] {"GET", "/functions/owned/build", null, null},
            new String[] {"GET", "/functions/owned/logs", null, null},
            new String[] {"GET", "/usage", null, null},
            new String[] {"GET", "/usage/records.csv", null, null},
            new String[] {"GET", "/runtimes", null, null},
            new String[] {"GET", "/builds/01kb0z1m6b7q2r3s4t5v6w7x8y", null, null},
            new String[] {"POST", "/createFunc", "application/x-www-form-urlencoded", "name=sneaky&image=granda%2Fhello"},
            new String[] {"POST", "/createCodeFunc", "application/x-www-form-urlencoded",
                    "name=sneaky&runtime=python&code=x"},
            new String[] {"GET", "/funcInvocationCount?funcname=owned", null, null},
            new String[] {"GET", "/invocationDetails?function=owned", null, null},
            new String[] {"POST", "/tenants", "application/json", "{\"id\":\"sneaky\"}"},
            new String[] {"GET", "/tenants", null, null},
            new String[] {"DELETE", "/tenants/globex", null, null},
            new String[] {"POST", "/tenants/acme/keys", "application/json", "{\"role\":\"admin\"}"},
            new String[] {"GET", "/tenants/acme/keys", null, null},
            new String[] {"DELETE", "/keys/KEYID", null, null},
            new String[] {"GET", "/whoami", null, null});

    @Test
    void withoutAValidKeyEveryManagementRouteIs401AndNothingChanges() {
        JsonNode owned = create(acme, "{\"name\":\"owned\",\"image\":\"granda/hello\"}");
        String acmeKeyId = acmeKey.substring(3, acmeKey.lastIndexOf('_'));
        String revoked = issue("acme", "{}");
        admin.send("DELETE", "/keys/" + revoked.substring(3, revoked.lastIndexOf('_')), null, null);
        Map<String, String> credentials = new java.util.LinkedHashMap<>();
        credentials.put("none", null);
        credentials.put("revoked", "Bearer " + revoked);
        credentials.put("malformed", "Bearer not-a-key");
        credentials.put("other secret", "Bearer gk_" + acmeKeyId + "_" + "0".repeat(32));
        credentials.put("other scheme", "Basic YWRtaW46YWRtaW4=");
        credentials.put("empty bearer", "Bearer ");
        int keysBefore = http.granda.apiKeys().keys(null).size();
        int runsBefore = backend.runCalls();

        for (Map.Entry<String, String> c : credentials.entrySet()) {
            for (String[] route : MANAGEMENT) {
                var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(http.base()
                        + route[1].replace("KEYID", acmeKeyId)));
                if (c.getValue() != null) {
                    request.header("Authorization", c.getValue());
                }
                if (route[2] != null) {
                    request.header("Content-Type", route[2]);
                }
                request.method(route[0], route[3] == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                        : java.net.http.HttpRequest.BodyPublishers.ofString(route[3]));
                assertUnauthorized(http.send(request.build()), c.getKey() + ": " + route[0] + " " + route[1]);
            }
        }
        // And as X-Granda-Key, the other place a key may be.
        for (String[] route : MANAGEMENT) {
            var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(http.base()
                    + route[1].replace("KEYID", acmeKeyId))).header(Authenticator.KEY_HEADER, revoked)
                    .method(route[0], java.net.http.HttpRequest.BodyPublishers.noBody());
            assertUnauthorized(http.send(request.build()), "X-Granda-Key: revoked, " + route[0] + " " + route[1]);
        }

        List<DeployedFunction> functions = http.granda.functions();
        assertEquals(List.of("owned"), functions.stream().map(DeployedFunction::name).toList());
        assertEquals(1, functions.getFirst().revision(), "not updated");
        assertEquals("granda/hello", functions.getFirst().spec().image());
        assertEquals(List.of("acme", "default", "globex"),
                http.granda.apiKeys().tenants().stream().map(io.granda.core.access.Tenant::id).toList());
        assertEquals(keysBefore, http.granda.apiKeys().keys(null).size(), "no key made");
        assertFalse(http.granda.apiKeys().key(acmeKeyId).orElseThrow().revoked(), "no key revoked");
        assertEquals(runsBefore, backend.runCalls());
        assertEquals(owned.get("url").asText(), acme.get("/functions/owned").json().get("url").asText());
    }

    @Test
    void aReadersKeyLooksAtItsOwnTenantAndChangesNothing() {
        create(acme, "{\"name\":\"owned\",\"image\":\"granda/hello\"}");
        JsonNode secret = create(acme, "{\"name\":\"secret\",\"image\":\"granda/hello\",\"private\":true}");
        create(globex, "{\"name\":\"theirs\",\"image\":\"granda/hello\"}");
        // A tenant key may make a reader key for its own tenant.
        HttpTestServer.Reply made = acme.json("POST", "/tenants/acme/keys", "{\"role\":\"reader\",\"name\":\"board\"}");
        assertEquals(201, made.status(), made.text());
        assertEquals("reader", made.json().get("role").asText());
        String readerKey = made.json().get("key").asText();
        String readerKeyId = made.json().get("keyId").asText();
        HttpTestServer reader = http.as(readerKey);

        // It looks, at its tenant only.
        assertEquals("reader", reader.get("/whoami").json().get("role").asText());
        List<String> names = new java.util.ArrayList<>();
        reader.get("/functions").json().get("items").forEach(f -> names.add(f.get("name").asText()));
        assertEquals(List.of("owned", "secret"), names);
        assertEquals(200, reader.get("/functions/owned/invocations").status());
        assertEquals(200, reader.get("/usage").status());
        assertEquals(200, reader.get("/tenants/acme/keys").status());
        assertEquals(404, reader.get("/functions/theirs").status(), "another tenant's: as if missing");
        assertEquals(403, reader.get("/tenants").status(), "not an admin");

        // Every route that would change something: 403 read_only_key, whatever the route.
        int keysBefore = http.granda.apiKeys().keys(null).size();
        int runsBefore = backend.runCalls();
        List<String[]> changing = new java.util.ArrayList<>(MANAGEMENT.stream().filter(r -> !r[0].equals("GET")).toList());
        changing.add(new String[] {"POST", "/functions/owned/async", "text/plain", "event"});
        changing.add(new String[] {"PUT", "/functions/owned/async-config", "application/json", "{\"maxAttempts\":1}"});
        changing.add(new String[] {"POST", "/functions/owned/events/redrive", null, null});
        for (String[] route : changing) {
            HttpTestServer.Reply r = reader.send(route[0], route[1].replace("KEYID", readerKeyId), route[2],
                    route[3] == null ? null : route[3].getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(403, r.status(), route[0] + " " + route[1] + ": " + r.text());
            assertEquals("read_only_key", r.json().get("error").asText(), route[0] + " " + route[1]);
            assertTrue(r.json().get("message").asText().contains("read-only"), r.text());
        }
        // Nor does it call the tenant's private functions (a call runs code and is billed).
        HttpTestServer.Reply call = reader.send("POST", secret.get("path").asText(), "text/plain", "x".getBytes());
        assertEquals(403, call.status(), call.text());
        assertEquals("read_only_key", call.json().get("error").asText());

        assertEquals(List.of("owned", "secret", "theirs"),
                http.granda.functions().stream().map(DeployedFunction::name).sorted().toList());
        assertEquals(1, http.granda.function("owned").orElseThrow().revision(), "not updated");
        assertEquals(keysBefore, http.granda.apiKeys().keys(null).size(), "no key made");
        assertTrue(http.granda.apiKeys().keys(null).stream().noneMatch(io.granda.core.access.ApiKey::revoked),
                "no key revoked, its own neither");
        assertEquals(List.of("acme", "default", "globex"),
                http.granda.apiKeys().tenants().stream().map(io.granda.core.access.Tenant::id).toList());
        assertEquals(runsBefore, backend.runCalls(), "nothing ran");
        // The tenant's own key still changes things, and revokes the reader's.
        assertEquals(204, acme.send("DELETE", "/keys/" + readerKeyId, null, null).status());
        assertUnauthorized(reader.get("/whoami"), "revoked reader");
    }

    /** Every route of the management API but {@code GET /whoami}: {@link #MANAGEMENT} and the async routes. */
    private static List<String[]> everyManagementRouteButWhoami() {
        List<String[]> routes = new ArrayList<>(MANAGEMENT.stream().filter(r -> !r[1].equals("/whoami")).toList());
        routes.add(new String[] {"POST", "/functions/owned/async", "text/plain", "event"});
        routes.add(new String[] {"GET", "/functions/owned/events", null, null});
        routes.add(new String[] {"POST", "/functions/owned/events/redrive", null, null});
        routes.add(new String[] {"GET", "/functions/owned/async-config", null, null});
        routes.add(new String[] {"PUT", "/functions/owned/async-config", "application/json", "{\"maxAttempts\":1}"});
        routes.add(new String[] {"GET", "/events", null, null});
        routes.add(new String[] {"GET", "/invocations/01kb0z1m6b7q2r3s4t5v6w7x8y", null, null});
        routes.add(new String[] {"POST", "/invocations/01kb0z1m6b7q2r3s4t5v6w7x8y/redrive", null, null});
        routes.add(new String[] {"POST", "/tenants/acme/keys", "application/json", "{\"role\":\"invoker\"}"});
        return routes;
    }

    @Test
    void anInvokersKeyCallsItsTenantsPrivateFunctionsInItsListAndNothingElse() {
        JsonNode open = create(acme, "{\"name\":\"owned\",\"image\":\"granda/hello\"}");
        JsonNode a = create(acme, "{\"name\":\"a\",\"image\":\"granda/hello\",\"private\":true}");
        JsonNode b = create(acme, "{\"name\":\"b\",\"image\":\"granda/hello\",\"private\":true}");
        JsonNode theirs = create(globex, "{\"name\":\"theirs\",\"image\":\"granda/hello\",\"private\":true}");
        // A tenant key may make invoker keys for its own tenant: one for "a" (and "later", not made yet), one for all.
        HttpTestServer.Reply made = acme.json("POST", "/tenants/acme/keys",
                "{\"role\":\"invoker\",\"name\":\"app\",\"functions\":[\"a\",\"later\"]}");
        assertEquals(201, made.status(), made.text());
        assertEquals("invoker", made.json().get("role").asText());
        assertEquals("[\"a\",\"later\"]", made.json().get("functions").toString());
        String scopedKey = made.json().get("key").asText();
        String scopedKeyId = made.json().get("keyId").asText();
        HttpTestServer scoped = http.as(scopedKey);
        HttpTestServer.Reply madeWhole = acme.json("POST", "/tenants/acme/keys", "{\"role\":\"INVOKER\"}");
        assertEquals(201, madeWhole.status(), madeWhole.text());
        assertTrue(madeWhole.json().get("functions").isNull(), "no list: every private function of acme");
        HttpTestServer whole = http.as(madeWhole.json().get("key").asText());

        // It may ask who it is, and is told what it may call.
        JsonNode me = scoped.get("/whoami").json();
        assertEquals("invoker", me.get("role").asText());
        assertEquals("acme", me.get("tenant").asText());
        assertEquals(scopedKeyId, me.get("keyId").asText());
        assertEquals("[\"a\",\"later\"]", me.get("functions").toString());
        assertTrue(whole.get("/whoami").json().get("functions").isNull());
        assertTrue(acme.get("/whoami").json().get("functions").isNull(), "a tenant key has no list");
        // Listings show the role and the list.
        for (JsonNode k : acme.get("/tenants/acme/keys").json().get("items")) {
            if (k.get("keyId").asText().equals(scopedKeyId)) {
                assertEquals("invoker", k.get("role").asText());
                assertEquals("[\"a\",\"later\"]", k.get("functions").toString());
            }
        }

        // It calls what its list names, of its tenant.
        int runsBefore = backend.runCalls();
        HttpTestServer.Reply callA = scoped.send("POST", a.get("path").asText(), "text/plain", "to a".getBytes());
        assertEquals(200, callA.status(), callA.text());
        assertEquals("to a", callA.text());
        HttpTestServer.Reply callB = scoped.send("POST", b.get("path").asText(), "text/plain", "to b".getBytes());
        assertEquals(403, callB.status(), callB.text());
        assertEquals("function_not_in_key_scope", callB.json().get("error").asText());
        String why = callB.json().get("message").asText();
        assertTrue(why.contains(scopedKeyId) && why.contains("'b'") && why.contains("a, later"), why);
        HttpTestServer.Reply other = scoped.send("POST", theirs.get("path").asText(), null, null);
        assertEquals(404, other.status(), "another tenant's: as for any key of another tenant");
        assertEquals("function_not_found", other.json().get("error").asText());
        assertEquals(404, whole.send("POST", theirs.get("path").asText(), null, null).status());
        assertEquals(200, scoped.send("POST", open.get("path").asText(), null, null).status(), "public: anyone");
        assertEquals(200, whole.send("POST", b.get("path").asText(), null, null).status(), "no list: every one");
        assertEquals(runsBefore + 3, backend.runCalls(), "a, the public one, and b with the key of no list");
        // A function made later under a name of the list is callable with it.
        JsonNode later = create(acme, "{\"name\":\"later\",\"image\":\"granda/hello\",\"private\":true}");
        assertEquals(200, scoped.send("POST", later.get("path").asText(), null, null).status());

        // Every management route but /whoami: 403 invoke_only_key, whatever the method, before anything is read.
        int keysBefore = http.granda.apiKeys().keys(null).size();
        runsBefore = backend.runCalls();
        for (HttpTestServer invoker : List.of(scoped, whole)) {
            for (String[] route : everyManagementRouteButWhoami()) {
                HttpTestServer.Reply r = invoker.send(route[0], route[1].replace("KEYID", scopedKeyId), route[2],
                        route[3] == null ? null : route[3].getBytes(StandardCharsets.UTF_8));
                assertEquals(403, r.status(), route[0] + " " + route[1] + ": " + r.text());
                assertEquals("invoke_only_key", r.json().get("error").asText(), route[0] + " " + route[1]);
                assertTrue(r.json().get("message").asText().contains("role invoker"), r.text());
            }
        }
        assertEquals(List.of("a", "b", "later", "owned", "theirs"),
                http.granda.functions().stream().map(DeployedFunction::name).sorted().toList());
        assertEquals(1, http.granda.function("owned").orElseThrow().revision(), "not updated");
        assertEquals(keysBefore, http.granda.apiKeys().keys(null).size(), "no key made");
        assertTrue(http.granda.apiKeys().keys(null).stream().noneMatch(ApiKey::revoked), "no key revoked");
        assertEquals(3, http.granda.apiKeys().tenants().size());
        assertEquals(runsBefore, backend.runCalls(), "nothing ran");

        // The tenant's key revokes it; then it is refused like any revoked key.
        assertEquals(204, acme.send("DELETE", "/keys/" + scopedKeyId, null, null).status());
        assertUnauthorized(scoped.send("POST", a.get("path").asText(), null, null), "revoked invoker");
    }

    @Test
    void readersAndInvokersMakeNoKeysAndAnotherTenantsKeyMakesNoneForAcme() {
        String reader = issue("acme", "{\"role\":\"reader\"}");
        String invoker = issue("acme", "{\"role\":\"invoker\",\"functions\":[\"a\"]}");
        int keys = http.granda.apiKeys().keys(null).size();
        HttpTestServer.Reply byReader = http.as(reader).json("POST", "/tenants/acme/keys", "{\"role\":\"invoker\"}");
        assertEquals(403, byReader.status());
        assertEquals("read_only_key", byReader.json().get("error").asText());
        HttpTestServer.Reply byInvoker = http.as(invoker).json("POST", "/tenants/acme/keys",
                "{\"role\":\"invoker\",\"functions\":[\"b\"]}");
        assertEquals(403, byInvoker.status());
        assertEquals("invoke_only_key", byInvoker.json().get("error").asText());
        HttpTestServer.Reply byGlobex = globex.json("POST", "/tenants/acme/keys", "{\"role\":\"invoker\"}");
        assertEquals(403, byGlobex.status());
        assertEquals("forbidden", byGlobex.json().get("error").asText());
        assertEquals(keys, http.granda.apiKeys().keys(null).size());
        // An admin key may, for any tenant.
        HttpTestServer.Reply byAdmin = admin.json("POST", "/tenants/globex/keys",
                "{\"role\":\"invoker\",\"functions\":[\"theirs\"]}");
        assertEquals(201, byAdmin.status(), byAdmin.text());
        assertEquals("globex", byAdmin.json().get("tenant").asText());
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
            "{\"functions\":[\"a\"]}",
            "{\"role\":\"tenant\",\"functions\":[\"a\"]}",
            "{\"role\":\"reader\",\"functions\":[\"a\"]}",
            "{\"role\":\"invoker\",\"functions\":[]}",
            "{\"role\":\"invoker\",\"functions\":\"a\"}",
            "{\"role\":\"invoker\",\"functions\":{\"a\":true}}",
            "{\"role\":\"invoker\",\"functions\":[\"a\",\"a\"]}",
            "{\"role\":\"invoker\",\"functions\":[\"Resize\"]}",
            "{\"role\":\"invoker\",\"functions\":[\"a-\"]}",
            "{\"role\":\"invoker\",\"functions\":[\"../a\"]}",
            "{\"role\":\"invoker\",\"functions\":[1]}",
            "{\"role\":\"invoker\",\"functions\":[null]}",
            "{\"role\":\"invoker\",\"functions\":[[\"a\"]]}",
            "TOO_MANY"})
    void aBadListOfFunctionsIs400NamingTheFieldAndMakesNoKey(String body) {
        if (body.equals("TOO_MANY")) {
            body = "{\"role\":\"invoker\",\"functions\":[" + String.join(",", java.util.stream.IntStream
                    .rangeClosed(1, 101).mapToObj(i -> "\"fn-" + i + "\"").toList()) + "]}";
        }
        int keys = http.granda.apiKeys().keys(null).size();
        for (HttpTestServer as : List.of(admin, acme)) {
            HttpTestServer.Reply r = as.json("POST", "/tenants/acme/keys", body);
            assertEquals(400, r.status(), body + ": " + r.text());
            assertEquals("invalid_request", r.json().get("error").asText());
            assertEquals("functions", r.json().get("field").asText(), r.text());
            assertTrue(r.json().get("message").asText().contains("functions"), r.text());
        }
        assertEquals(keys, http.granda.apiKeys().keys(null).size(), "nothing created");
    }

    @Test
    void theBoundsOfAListOfFunctionsAreAcceptedAndNullIsNoList() {
        String hundred = String.join(",", java.util.stream.IntStream.rangeClosed(1, 100)
                .mapToObj(i -> "\"fn-" + i + "\"").toList());
        HttpTestServer.Reply most = acme.json("POST", "/tenants/acme/keys",
                "{\"role\":\"invoker\",\"functions\":[" + hundred + "]}");
        assertEquals(201, most.status(), most.text());
        assertEquals(100, most.json().get("functions").size());
        HttpTestServer.Reply none = acme.json("POST", "/tenants/acme/keys", "{\"role\":\"invoker\",\"functions\":null}");
        assertEquals(201, none.status(), none.text());
        assertTrue(none.json().get("functions").isNull());
        HttpTestServer.Reply tenantNull = acme.json("POST", "/tenants/acme/keys", "{\"functions\":null}");
        assertEquals(201, tenantNull.status(), "null counts as not given, for any role");
        assertEquals("tenant", tenantNull.json().get("role").asText());
    }

    @Test
    void theSameKeyWorksAsBearerOrAsXGrandaKey() {
        assertEquals("acme", acme.get("/whoami").json().get("tenant").asText());
        HttpTestServer.Reply viaHeader = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(http.base() + "/whoami")).header("X-Granda-Key", acmeKey).build());
        assertEquals(200, viaHeader.status(), viaHeader.text());
        JsonNode me = viaHeader.json();
        assertEquals("acme", me.get("tenant").asText());
        assertEquals("tenant", me.get("role").asText());
        assertEquals("acme ci", me.get("name").asText());
        assertEquals(acmeKey.substring(3, acmeKey.lastIndexOf('_')), me.get("keyId").asText());
        assertTrue(me.get("apiKeysRequired").asBoolean());
        assertEquals("admin", admin.get("/whoami").json().get("role").asText());
        HttpTestServer.Reply lowerCase = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(http.base() + "/whoami")).header("Authorization", "bearer " + acmeKey).build());
        assertEquals(200, lowerCase.status(), "the scheme is case-insensitive");
    }

    @Test
    void aTenantSeesAndChangesOnlyItsOwnFunctions() {
        JsonNode mine = create(acme, "{\"name\":\"acme-fn\",\"image\":\"granda/hello\"}");
        JsonNode theirs = create(globex, "{\"name\":\"globex-fn\",\"image\":\"granda/hello\"}");
        assertEquals("acme", mine.get("tenant").asText());
        assertEquals("globex", theirs.get("tenant").asText());
        assertEquals(200, acme.send("POST", mine.get("path").asText(), "text/plain", "x".getBytes()).status());
        assertEquals(200, globex.send("POST", theirs.get("path").asText(), "text/plain", "x".getBytes()).status());

        assertEquals(List.of("acme-fn"), names(acme.get("/functions").json()));
        assertEquals(List.of("globex-fn"), names(globex.get("/functions").json()));
        assertEquals(List.of("acme-fn", "globex-fn"), names(admin.get("/functions").json()), "an admin sees all");
        assertEquals(List.of("globex-fn"), names(admin.get("/functions?tenant=globex").json()));
        assertEquals(403, acme.get("/functions?tenant=globex").status());

        // Every read and change of globex's function by acme answers as for a missing function.
        for (String[] route : List.of(
                new String[] {"GET", "/functions/globex-fn", null},
                new String[] {"PUT", "/functions/globex-fn", "{\"image\":\"evil/image\"}"},
                new String[] {"DELETE", "/functions/globex-fn", null},
                new String[] {"GET", "/functions/globex-fn/invocations", null},
                new String[] {"GET", "/functions/globex-fn/usage", null},
                new String[] {"GET", "/functions/globex-fn/usage?granularity=hour", null},
                new String[] {"GET", "/functions/globex-fn/logs", null},
                new String[] {"GET", "/functions/globex-fn/instances", null},
                new String[] {"GET", "/functions/globex-fn/source", null},
                new String[] {"GET", "/functions/globex-fn/build", null},
                new String[] {"GET", "/usage/records.csv?function=globex-fn", null})) {
            HttpTestServer.Reply r = route[2] == null ? acme.send(route[0], route[1], null, null)
                    : acme.json(route[0], route[1], route[2]);
            HttpTestServer.Reply missing = acme.send(route[0], route[1].replace("globex-fn", "no-such-fn"),
                    route[2] == null ? null : "application/json",
                    route[2] == null ? null : route[2].getBytes(StandardCharsets.UTF_8));
            assertEquals(404, r.status(), route[0] + " " + route[1] + ": " + r.text());
            assertEquals("function_not_found", r.json().get("error").asText(), route[1]);
            assertEquals(missing.json().get("message").asText().replace("no-such-fn", "globex-fn"),
                    r.json().get("message").asText(), "the same answer as for a missing function: " + route[1]);
        }
        // The original API too.
        HttpTestServer.Reply count = acme.get("/funcInvocationCount?funcname=globex-fn");
        assertEquals(404, count.status());
        assertEquals(0, count.json().get("count").asInt());
        assertEquals(404, acme.get("/invocationDetails?function=globex-fn").status());

        JsonNode after = globex.get("/functions/globex-fn").json();
        assertEquals(1, after.get("revision").asLong(), "globex's function is unchanged");
        assertEquals("granda/hello", after.get("image").asText());
        assertEquals(1, globex.get("/functions/globex-fn/invocations").json().get("items").size());

        // Its own are its own to change and delete.
        assertEquals(200, acme.json("PUT", "/functions/acme-fn", "{\"image\":\"granda/hello:2\"}").status());
        assertEquals(1, acme.get("/funcInvocationCount?funcname=acme-fn&duration=60").json().get("count").asInt());
        assertEquals(204, acme.send("DELETE", "/functions/acme-fn", null, null).status());
        // An admin may change anyone's.
        assertEquals(200, admin.json("PUT", "/functions/globex-fn", "{\"image\":\"granda/hello:2\"}").status());
        assertEquals("globex", admin.get("/functions/globex-fn").json().get("tenant").asText(), "tenant kept");
        assertEquals(204, admin.send("DELETE", "/functions/globex-fn", null, null).status());
    }

    @Test
    void namesAreGlobalSoATakenNameIs409WhoeverHasIt() {
        create(globex, "{\"name\":\"popular\",\"image\":\"granda/hello\"}");
        HttpTestServer.Reply r = acme.json("POST", "/functions", "{\"name\":\"popular\",\"image\":\"granda/hello\"}");
        assertEquals(409, r.status());
        assertEquals("function_exists", r.json().get("error").asText());
        assertEquals(List.of(), names(acme.get("/functions").json()));
        HttpTestServer.Reply legacy = acme.form("/createFunc", "name=popular&image=granda%2Fhello");
        assertEquals(409, legacy.status());
        assertEquals(false, legacy.json().get("status").asBoolean());
    }

    @Test
    void aTenantsUsageIsItsOwnAndAnAdminSeesEveryTenants() {
        JsonNode mine = create(acme, "{\"name\":\"a1\",\"image\":\"granda/hello\"}");
        JsonNode theirs = create(globex, "{\"name\":\"g1\",\"image\":\"granda/hello\"}");
        acme.send("POST", mine.get("path").asText(), null, null);
        globex.send("POST", theirs.get("path").asText(), null, null);
        globex.send("POST", theirs.get("path").asText(), null, null);

        JsonNode own = acme.get("/usage").json();
        assertEquals("acme", own.get("tenant").asText());
        assertEquals(1, own.get("calls").asLong());
        assertEquals(List.of("a1"), names(own.get("functions")));
        assertEquals(403, acme.get("/usage?tenant=globex").status());
        assertEquals("acme", acme.get("/usage?tenant=acme").json().get("tenant").asText());

        JsonNode all = admin.get("/usage").json();
        assertTrue(all.get("tenant").isNull());
        assertEquals(3, all.get("calls").asLong());
        JsonNode one = admin.get("/usage?tenant=globex").json();
        assertEquals(2, one.get("calls").asLong());
        assertEquals("globex", one.get("functions").get(0).get("tenant").asText());

        String csv = acme.get("/usage/records.csv").text();
        assertEquals(2, csv.split("\r\n").length, "a header and acme's one call: " + csv);
        assertTrue(csv.contains(",acme,") && !csv.contains(",globex,"), csv);
        assertEquals(403, acme.get("/usage/records.csv?tenant=globex").status());
        assertEquals(4, admin.get("/usage/records.csv").text().split("\r\n").length);
        // Records carry the tenant owning the function.
        assertEquals("globex", http.granda.invocations("g1", 10, null).items().getFirst().tenant());
    }

    @Test
    void aPrivateFunctionNeedsAKeyOfItsTenantOrAnAdmin() {
        JsonNode secret = create(acme, "{\"name\":\"secret\",\"image\":\"granda/hello\",\"private\":true}");
        assertTrue(secret.get("private").asBoolean());
        String path = secret.get("path").asText();
        int runs = backend.runCalls();

        assertUnauthorized(anonymous.send("POST", path, "text/plain", "x".getBytes()), "no key");
        assertUnauthorized(http.as("gk_abcd_" + "0".repeat(32)).send("POST", path, null, null), "unknown key");
        HttpTestServer.Reply other = globex.send("POST", path, null, null);
        assertEquals(404, other.status(), "another tenant's key: as if there were no such URL");
        assertEquals("function_not_found", other.json().get("error").asText());
        assertEquals(runs, backend.runCalls(), "nothing ran");

        HttpTestServer.Reply owner = acme.send("POST", path, "text/plain", "hi".getBytes());
        assertEquals(200, owner.status(), owner.text());
        assertEquals("hi", owner.text());
        assertEquals(200, admin.send("POST", path, null, null).status());
        HttpTestServer.Reply viaHeader = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                http.base() + path)).header("X-Granda-Key", acmeKey).POST(
                java.net.http.HttpRequest.BodyPublishers.ofString("via header")).build());
        assertEquals("via header", viaHeader.text());
        // X-Granda-Key wins over an Authorization the caller means for the function itself.
        HttpTestServer.Reply both = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                http.base() + path)).header("X-Granda-Key", acmeKey).header("Authorization", "Basic dXNlcjpwYXNz")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("both")).build());
        assertEquals(200, both.status(), both.text());
        assertUnauthorized(http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(http.base() + path))
                .header("Authorization", "Basic dXNlcjpwYXNz").POST(
                        java.net.http.HttpRequest.BodyPublishers.ofString("basic alone")).build()), "Basic alone");
        assertEquals(runs + 4, backend.runCalls());

        // A public function needs no key, and a stray or wrong one is ignored.
        JsonNode open = create(acme, "{\"name\":\"open\",\"image\":\"granda/hello\"}");
        assertFalse(open.get("private").asBoolean());
        assertEquals(200, anonymous.send("POST", open.get("path").asText(), null, null).status());
        assertEquals(200, globex.send("POST", open.get("path").asText(), null, null).status());
    }

    @Test
    void anUpdateThatDoesNotMentionPrivateKeepsIt() {
        create(acme, "{\"name\":\"closed\",\"image\":\"granda/hello\",\"private\":true}");
        JsonNode updated = acme.json("PUT", "/functions/closed", "{\"image\":\"granda/hello:2\"}").json();
        assertTrue(updated.get("private").asBoolean(), "never public by omission");
        JsonNode opened = acme.json("PUT", "/functions/closed", "{\"image\":\"granda/hello:2\",\"private\":false}").json();
        assertFalse(opened.get("private").asBoolean());
        assertEquals(200, anonymous.send("POST", opened.get("path").asText(), null, null).status());
        HttpTestServer.Reply bad = acme.json("PUT", "/functions/closed", "{\"image\":\"a\",\"private\":\"yes\"}");
        assertEquals(400, bad.status());
        assertEquals("private", bad.json().get("field").asText());
    }

    @Test
    void aRevokedKeyIsRefusedAtTheVeryNextRequest() {
        String key = issue("acme", "{\"name\":\"short-lived\"}");
        HttpTestServer client = http.as(key);
        JsonNode fn = create(client, "{\"name\":\"short\",\"image\":\"granda/hello\",\"private\":true}");
        // Warm the cache of checked keys: the revocation must still count at once.
        for (int i = 0; i < 5; i++) {
            assertEquals(200, client.get("/functions").status());
        }
        String keyId = key.substring(3, key.lastIndexOf('_'));

        assertEquals(204, admin.send("DELETE", "/keys/" + keyId, null, null).status());

        assertUnauthorized(client.get("/functions"), "the next management call");
        assertUnauthorized(client.send("POST", fn.get("path").asText(), null, null), "the next call of a private URL");
        JsonNode listed = admin.get("/tenants/acme/keys").json().get("items");
        JsonNode revoked = null;
        for (JsonNode k : listed) {
            if (k.get("keyId").asText().equals(keyId)) {
                revoked = k;
            }
        }
        assertNotNull(revoked);
        assertFalse(revoked.get("revokedAt").isNull());
        assertEquals(204, admin.send("DELETE", "/keys/" + keyId, null, null).status(), "revoking again is harmless");
    }

    @ParameterizedTest
    @CsvSource({"POST, /tenants, {\"id\":\"sneaky\"}", "GET, /tenants,", "POST, /tenants/globex/keys, {}",
            "GET, /tenants/globex/keys,", "POST, /tenants/acme/keys, {\"role\":\"admin\"}"})
    void adminRoutesRefuseTenantKeysWith403(String method, String path, String body) {
        int keys = http.granda.apiKeys().keys(null).size();
        HttpTestServer.Reply r = body == null ? acme.send(method, path, null, null) : acme.json(method, path, body);
        assertEquals(403, r.status(), r.text());
        assertEquals("forbidden", r.json().get("error").asText());
        assertEquals(keys, http.granda.apiKeys().keys(null).size());
        assertEquals(3, http.granda.apiKeys().tenants().size());
    }

    @Test
    void aTenantManagesItsOwnKeys() {
        HttpTestServer.Reply made = acme.json("POST", "/tenants/acme/keys", "{\"name\":\"deploy bot\"}");
        assertEquals(201, made.status(), made.text());
        JsonNode key = made.json();
        assertEquals("tenant", key.get("role").asText());
        assertEquals("acme", key.get("tenant").asText());
        assertEquals("no-store", made.header("Cache-Control"));
        String token = key.get("key").asText();
        assertTrue(token.startsWith("gk_" + key.get("keyId").asText() + "_"), token);
        assertEquals("acme", http.as(token).get("/whoami").json().get("tenant").asText());

        JsonNode listed = acme.get("/tenants/acme/keys").json().get("items");
        assertEquals(2, listed.size());
        Set<String> fields = new TreeSet<>();
        for (JsonNode k : listed) {
            k.fieldNames().forEachRemaining(fields::add);
            assertFalse(k.toString().contains(token.substring(token.lastIndexOf('_') + 1)), "no secret listed");
        }
        assertEquals(Set.of("createdAt", "expired", "expiresAt", "functions", "keyId", "name", "revokedAt", "role",
                        "tenant"), fields,
                "no secret and no hash in a listing");

        String globexKeyId = globexKey.substring(3, globexKey.lastIndexOf('_'));
        HttpTestServer.Reply notTheirs = acme.send("DELETE", "/keys/" + globexKeyId, null, null);
        assertEquals(404, notTheirs.status(), "another tenant's key is not found");
        assertEquals("key_not_found", notTheirs.json().get("error").asText());
        assertEquals(200, globex.get("/whoami").status(), "and still works");

        assertEquals(204, acme.send("DELETE", "/keys/" + key.get("keyId").asText(), null, null).status());
        assertUnauthorized(http.as(token).get("/whoami"), "revoked by its own tenant");
    }

    @Test
    void theLastAdminKeyCannotBeRevokedAndBadRequestsChangeNothing() {
        String adminKeyId = http.adminKey.substring(3, http.adminKey.lastIndexOf('_'));
        HttpTestServer.Reply last = admin.send("DELETE", "/keys/" + adminKeyId, null, null);
        assertEquals(409, last.status());
        assertEquals("last_admin_key", last.json().get("error").asText());
        assertEquals(200, admin.get("/whoami").status());

        int keys = http.granda.apiKeys().keys(null).size();
        for (String[] bad : List.of(new String[] {"/tenants", "{\"id\":\"Bad Name\"}", "400", "id"},
                new String[] {"/tenants", "{}", "400", "id"},
                new String[] {"/tenants", "{\"id\":\"acme\"}", "409", null},
                new String[] {"/tenants", "{\"id\":\"x\",\"extra\":1}", "400", "extra"},
                new String[] {"/tenants/acme/keys", "{\"role\":\"root\"}", "400", "role"},
                new String[] {"/tenants/acme/keys", "{\"name\":7}", "400", "name"},
                new String[] {"/tenants/acme/keys", "[1]", "400", null},
                new String[] {"/tenants/ghost/keys", "{}", "404", null})) {
            HttpTestServer.Reply r = admin.json("POST", bad[0], bad[1]);
            assertEquals(Integer.parseInt(bad[2]), r.status(), bad[0] + " " + bad[1] + ": " + r.text());
            if (bad[3] != null) {
                assertEquals(bad[3], r.json().get("field").asText());
            }
        }
        assertEquals(415, admin.send("POST", "/tenants", "text/plain", "{\"id\":\"t\"}".getBytes()).status());
        assertEquals(keys, http.granda.apiKeys().keys(null).size());
        assertEquals(3, http.granda.apiKeys().tenants().size());
        assertEquals(405, admin.send("PUT", "/tenants", null, null).status());
        assertEquals(404, admin.get("/tenants/ghost/keys").status());
        assertEquals(404, admin.send("DELETE", "/keys/nokey123", null, null).status());
    }

    @Test
    void withoutRequiredKeysEveryoneIsAnAdminOfTheDefaultTenant() {
        try (HttpTestServer open = new HttpTestServer(Granda.builder().backend(new FakeBackend()).build(),
                GrandaHttpConfig.DEFAULTS.withRequireApiKey(false))) {
            assertNull(open.adminKey);
            JsonNode fn = create(open, "{\"name\":\"anyone\",\"image\":\"granda/hello\",\"private\":true}");
            assertEquals("default", fn.get("tenant").asText());
            assertEquals(200, open.send("POST", fn.get("path").asText(), null, null).status());
            JsonNode me = open.get("/whoami").json();
            assertEquals("admin", me.get("role").asText());
            assertFalse(me.get("apiKeysRequired").asBoolean());
        }
    }

    @Test
    void grandaKeysAreRecognisedSoTheyNeverReachAFunction() {
        assertTrue(Authenticator.carriesKey("X-Granda-Key", "anything"));
        assertTrue(Authenticator.carriesKey("x-granda-key", ""));
        assertTrue(Authenticator.carriesKey("Authorization", "Bearer " + acmeKey));
        assertTrue(Authenticator.carriesKey("authorization", "bearer  gk_whatever"));
        assertFalse(Authenticator.carriesKey("Authorization", "Bearer the-function's-own-token"));
        assertFalse(Authenticator.carriesKey("Authorization", "Basic YWRtaW46YWRtaW4="));
        assertFalse(Authenticator.carriesKey("X-Other", acmeKey));
    }

    @Test
    void keysAreKeptAsHashesOnly() {
        for (ApiKey k : http.granda.apiKeys().keys(null)) {
            assertFalse(k.secretHash().contains(acmeKey.substring(acmeKey.lastIndexOf('_') + 1)));
            assertEquals(64, k.secretHash().length());
        }
        assertEquals(io.granda.core.access.ApiKeyTokens.hash(acmeKey),
                http.granda.apiKeys().key(acmeKey.substring(3, acmeKey.lastIndexOf('_'))).orElseThrow().secretHash());
        assertEquals(Role.TENANT, http.granda.apiKeys().verify(acmeKey).orElseThrow().role());
    }

    private static List<String> names(JsonNode listOrUsage) {
        JsonNode items = listOrUsage.has("items") ? listOrUsage.get("items") : listOrUsage;
        List<String> out = new ArrayList<>();
        items.forEach(f -> out.add(f.get("name").asText()));
        return out;
    }
}
