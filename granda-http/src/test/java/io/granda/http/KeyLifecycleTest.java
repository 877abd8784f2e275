package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.core.access.ApiKeys;
import io.granda.core.access.Tenant;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The end of keys and tenants over HTTP: keys that expire (judged against the platform's clock at every request,
 * cached or not) and tenants that are deleted (refused while they own functions; their keys stop at once). Against a
 * real Helidon server on loopback, a fake backend, the in-memory stores and a fake clock.
 */
class KeyLifecycleTest {

    private static final Instant START = Instant.parse("2026-06-01T08:00:00.250Z");

    private final FakeClock clock = new FakeClock(START);
    private HttpTestServer admin;

    @BeforeEach
    void start() {
        admin = new HttpTestServer(Granda.builder().backend(new FakeBackend()).clock(clock).build(),
                GrandaHttpConfig.DEFAULTS);
        assertEquals(201, admin.json("POST", "/tenants", "{\"id\":\"acme\"}").status());
    }

    @AfterEach
    void stop() {
        admin.close();
    }

    private JsonNode issue(String tenant, String body) {
        HttpTestServer.Reply r = admin.json("POST", "/tenants/" + tenant + "/keys", body);
        assertEquals(201, r.status(), r.text());
        return r.json();
    }

    private JsonNode listed(String tenant, String keyId) {
        JsonNode items = admin.get("/tenants/" + tenant + "/keys").json().get("items");
        return StreamSupport.stream(items.spliterator(), false).filter(k -> k.get("keyId").asText().equals(keyId))
                .findFirst().orElseThrow(() -> new AssertionError(keyId + " not listed: " + items));
    }

    private static void assertUnauthorized(HttpTestServer.Reply r, String messagePart) {
        assertEquals(401, r.status(), r.text());
        assertEquals("unauthorized", r.json().get("error").asText());
        assertTrue(r.json().get("message").asText().contains(messagePart), r.text());
        assertEquals("Bearer realm=\"granda\"", r.header("WWW-Authenticate"));
        assertTrue(r.header("Content-Type").startsWith("application/json"));
    }

    // ---- expiry ----

    @Test
    void aKeyMadeToLiveSomeDaysWorksUntilItsExpiryAndIsRefusedFromIt() {
        JsonNode made = issue("acme", "{\"name\":\"ci\",\"expiresInDays\":30}");
        Instant expiry = START.plus(Duration.ofDays(30));
        assertEquals(expiry.toString(), made.get("expiresAt").asText());
        assertFalse(made.get("expired").asBoolean());
        HttpTestServer ci = admin.as(made.get("key").asText());
        assertEquals(200, ci.get("/whoami").status(), "puts the key in the cache");
        assertEquals(expiry.toString(), ci.get("/whoami").json().get("expiresAt").asText());
        JsonNode listed = listed("acme", made.get("keyId").asText());
        assertEquals(expiry.toString(), listed.get("expiresAt").asText());
        assertFalse(listed.get("expired").asBoolean());

        clock.set(expiry.minusNanos(1));
        assertEquals(200, ci.get("/functions").status(), "one instant before its expiry");

        clock.set(expiry);
        HttpTestServer.Reply refused = ci.get("/functions");
        assertUnauthorized(refused, "expired");
        assertTrue(refused.json().get("message").asText().contains(expiry.toString()), refused.text());
        assertUnauthorized(ci.json("POST", "/functions", "{\"name\":\"late\",\"image\":\"granda/hello\"}"), "expired");
        assertEquals(List.of(), admin.granda.functions(), "nothing was made with it");
        assertTrue(listed("acme", made.get("keyId").asText()).get("expired").asBoolean());
        assertTrue(listed("acme", made.get("keyId").asText()).get("revokedAt").isNull(), "expired, not revoked");
    }

    @Test
    void aKeyMayExpireAtAGivenTimeAndAKeyWithoutOneNeverDoes() {
        JsonNode timed = issue("acme", "{\"expiresAt\":\"2026-06-01T10:00:05+02:00\"}");
        assertEquals("2026-06-01T08:00:05Z", timed.get("expiresAt").asText(), "any offset, kept in UTC");
        JsonNode lasting = issue("acme", "{\"expiresAt\":null,\"expiresInDays\":null}");
        assertTrue(lasting.get("expiresAt").isNull());
        assertFalse(lasting.get("expired").asBoolean());
        HttpTestServer timedClient = admin.as(timed.get("key").asText());
        HttpTestServer lastingClient = admin.as(lasting.get("key").asText());
        assertEquals(200, timedClient.get("/whoami").status());

        // Its expiry, 4.75 s on: the key is still in the verification cache.
        clock.set(Instant.parse("2026-06-01T08:00:05Z"));
        assertUnauthorized(timedClient.get("/whoami"), "expired at 2026-06-01T08:00:05Z");
        clock.advance(Duration.ofDays(3650 * 3));
        assertEquals(200, lastingClient.get("/whoami").status(), "no expiry, never expires");
        assertEquals(200, admin.get("/whoami").status());
    }

    @Test
    void aBadExpiryIsA400NamingTheFieldAndMakesNothing() {
        int before = admin.granda.apiKeys().keys(null).size();
        String[][] cases = {
                {"{\"expiresInDays\":0}", "expiresInDays"},
                {"{\"expiresInDays\":-3}", "expiresInDays"},
                {"{\"expiresInDays\":3651}", "expiresInDays"},
                {"{\"expiresInDays\":1.5}", "expiresInDays"},
                {"{\"expiresInDays\":\"30\"}", "expiresInDays"},
                {"{\"expiresInDays\":true}", "expiresInDays"},
                {"{\"expiresInDays\":1e30}", "expiresInDays"},
                {"{\"expiresInDays\":99999999999999999999999}", "expiresInDays"},
                {"{\"expiresAt\":\"2026-06-01T08:00:00.250Z\"}", "expiresAt"},
                {"{\"expiresAt\":\"2020-01-01T00:00:00Z\"}", "expiresAt"},
                {"{\"expiresAt\":\"2036-06-01T08:00:01Z\"}", "expiresAt"},
                {"{\"expiresAt\":\"+999999999-12-31T23:59:59Z\"}", "expiresAt"},
                {"{\"expiresAt\":\"2027-01-31T00:00:00\"}", "expiresAt"},
                {"{\"expiresAt\":\"2027-01-31\"}", "expiresAt"},
                {"{\"expiresAt\":\"tomorrow\"}", "expiresAt"},
                {"{\"expiresAt\":1798761600}", "expiresAt"},
                {"{\"expiresAt\":\"2027-01-31T00:00:00Z\",\"expiresInDays\":30}", "expiresAt"},
                {"{\"expiresIn\":30}", "expiresIn"},
        };
        for (String[] c : cases) {
            HttpTestServer.Reply r = admin.json("POST", "/tenants/acme/keys", c[0]);
            assertEquals(400, r.status(), c[0] + ": " + r.text());
            assertEquals("invalid_request", r.json().get("error").asText(), c[0]);
            assertEquals(c[1], r.json().get("field").asText(), c[0] + ": " + r.text());
            assertTrue(r.json().get("message").asText().length() > 10, c[0]);
        }
        assertEquals(before, admin.granda.apiKeys().keys(null).size(), "no key made");
        assertEquals(201, admin.json("POST", "/tenants/acme/keys", "{\"expiresInDays\":3650}").status());
        assertEquals(201, admin.json("POST", "/tenants/acme/keys", "{\"expiresInDays\":1.0}").status(),
                "a whole number written with a point");
    }

    // ---- tenant deletion ----

    @Test
    void aTenantOwningFunctionsIsRefusedNamingThemAndNothingChanges() {
        String acmeKey = issue("acme", "{}").get("key").asText();
        HttpTestServer acme = admin.as(acmeKey);
        for (String name : List.of("acme-b", "acme-a")) {
            assertEquals(201, acme.json("POST", "/functions", "{\"name\":\"" + name + "\",\"image\":\"granda/hello\"}")
                    .status());
        }

        HttpTestServer.Reply refused = admin.send("DELETE", "/tenants/acme", null, null);

        assertEquals(409, refused.status(), refused.text());
        assertEquals("tenant_has_functions", refused.json().get("error").asText());
        assertTrue(refused.json().get("message").asText().contains("acme-a, acme-b"), refused.text());
        assertEquals(List.of("acme-a", "acme-b"), StreamSupport.stream(refused.json().get("functions").spliterator(),
                false).map(JsonNode::asText).toList());
        assertEquals(2, admin.granda.functions("acme").size(), "no function deleted");
        assertEquals(200, acme.get("/functions").status(), "its key still works");
        assertTrue(admin.granda.apiKeys().tenant("acme").isPresent());
    }

    @Test
    void deletingATenantRevokesItsKeysAtOnce() {
        String acmeKey = issue("acme", "{}").get("key").asText();
        String acmeAdminKey = issue("acme", "{\"role\":\"admin\"}").get("key").asText();
        HttpTestServer acme = admin.as(acmeKey);
        assertEquals(201, acme.json("POST", "/functions", "{\"name\":\"acme-fn\",\"image\":\"granda/hello\"}")
                .status());
        assertEquals(403, acme.send("DELETE", "/tenants/acme", null, null).status(), "only admins delete tenants");
        assertEquals(204, acme.send("DELETE", "/functions/acme-fn", null, null).status(), "its user deletes them");
        assertEquals(200, acme.get("/whoami").status(), "cached");
        assertEquals(200, admin.as(acmeAdminKey).get("/whoami").status(), "cached");

        HttpTestServer.Reply deleted = admin.send("DELETE", "/tenants/acme", null, null);

        assertEquals(204, deleted.status(), deleted.text());
        assertUnauthorized(acme.get("/whoami"), "not valid");
        assertUnauthorized(admin.as(acmeAdminKey).get("/tenants"), "not valid");
        assertEquals(List.of(Tenant.DEFAULT), StreamSupport.stream(admin.get("/tenants").json().get("items")
                .spliterator(), false).map(t -> t.get("id").asText()).toList());
        assertEquals(404, admin.get("/tenants/acme/keys").status());
        HttpTestServer.Reply again = admin.send("DELETE", "/tenants/acme", null, null);
        assertEquals(404, again.status());
        assertEquals("tenant_not_found", again.json().get("error").asText());
        HttpTestServer.Reply recreate = admin.json("POST", "/tenants", "{\"id\":\"acme\"}");
        assertEquals(409, recreate.status(), "the name is not given out again");
        assertTrue(recreate.json().get("message").asText().contains("deleted"), recreate.text());
        assertTrue(admin.granda.apiKeys().keys("acme").stream().allMatch(io.granda.core.access.ApiKey::revoked),
                "its keys are kept, revoked");
    }

    @Test
    void unknownAndDefaultTenantsAreNotDeleted() {
        HttpTestServer.Reply unknown = admin.send("DELETE", "/tenants/ghost", null, null);
        assertEquals(404, unknown.status(), unknown.text());
        assertEquals("tenant_not_found", unknown.json().get("error").asText());
        assertEquals(404, admin.send("DELETE", "/tenants/Not_A_Tenant", null, null).status());

        HttpTestServer.Reply protectedOne = admin.send("DELETE", "/tenants/default", null, null);
        assertEquals(409, protectedOne.status(), protectedOne.text());
        assertEquals("tenant_protected", protectedOne.json().get("error").asText());
        assertTrue(protectedOne.json().get("message").asText().contains("always exists"), protectedOne.text());
        assertEquals(200, admin.get("/whoami").status(), "the admin key still works");

        HttpTestServer.Reply wrongMethod = admin.send("GET", "/tenants/acme", null, null);
        assertEquals(405, wrongMethod.status(), wrongMethod.text());
    }

    @Test
    void aTenantHoldingTheLastAdminKeysIsNotDeleted() {
        ApiKeys keys = admin.granda.apiKeys();
        String acmeAdmin = issue("acme", "{\"role\":\"admin\"}").get("key").asText();
        // Revoke every admin key but acme's: acme's admin key is then the last.
        keys.keys(Tenant.DEFAULT).forEach(k -> keys.revoke(k.keyId()));
        HttpTestServer acmeAsAdmin = admin.as(acmeAdmin);

        HttpTestServer.Reply refused = acmeAsAdmin.send("DELETE", "/tenants/acme", null, null);

        assertEquals(409, refused.status(), refused.text());
        assertEquals("last_admin_key", refused.json().get("error").asText());
        assertEquals(200, acmeAsAdmin.get("/tenants").status());
    }
}
