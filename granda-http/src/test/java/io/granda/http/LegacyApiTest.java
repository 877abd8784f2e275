package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.testkit.FakeBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The original Granda API answers as the original did, so its web page works against us.
 */
class LegacyApiTest {

    private static final Pattern SQLITE_TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}");

    private FakeBackend backend;
    private HttpTestServer http;

    @BeforeEach
    void start() {
        backend = new FakeBackend().withMissingImage("zexyphantom/go-sms");
        http = new HttpTestServer(Granda.builder().backend(backend).build(), GrandaHttpConfig.DEFAULTS);
    }

    @AfterEach
    void stop() {
        http.close();
    }

    @Test
    void createFuncTakesTheOriginalFormAndAnswersStatusPathMessage() {
        HttpTestServer.Reply r = http.form("/createFunc",
                "name=send-sms&description=Send+sms+when+a+user+submits&image=granda%2Fhello&time=15");
        assertEquals(200, r.status(), r.text());
        assertEquals("*", r.header("Access-Control-Allow-Origin"));
        JsonNode body = r.json();
        assertTrue(body.get("status").asBoolean());
        String path = body.get("path").asText();
        assertTrue(path.startsWith(http.base() + "/f/send-sms-"), path);
        assertFalse(body.get("message").asText().isBlank());

        JsonNode fn = http.get("/functions/send-sms").json();
        assertEquals(15, fn.get("timeoutSeconds").asInt());
        assertEquals("Send sms when a user submits", fn.get("description").asText());

        HttpTestServer.Reply call = http.send("POST", URI.create(path).getPath(), "text/plain",
                "Hello #devopsdaysaustin".getBytes(StandardCharsets.UTF_8));
        assertEquals(200, call.status());
        assertEquals("Hello #devopsdaysaustin", call.text());
    }

    @Test
    void createFuncDefaultsTheTimeoutToTenSeconds() {
        assertEquals(200, http.form("/createFunc", "name=tweet&image=granda%2Fhello&time=").status());
        assertEquals(10, http.get("/functions/tweet").json().get("timeoutSeconds").asInt());
    }

    @Test
    void createFuncRefusesBadInputWithStatusFalse() {
        String[][] cases = {
                {"name=&image=granda%2Fhello", "400", "name"},
                {"name=Bad+Name&image=granda%2Fhello", "400", "name"},
                {"name=ok&image=", "400", "image"},
                {"name=ok&image=granda%2Fhello&time=abc", "400", "time"},
                {"name=ok&image=granda%2Fhello&time=-5", "400", "time"},
                {"name=ok&image=zexyphantom%2Fgo-sms", "422", null},
                {"name=ok&image=granda%2Fhello&time=%zz", "400", null},
        };
        for (String[] c : cases) {
            HttpTestServer.Reply r = http.form("/createFunc", c[0]);
            assertEquals(Integer.parseInt(c[1]), r.status(), c[0] + ": " + r.text());
            assertEquals("*", r.header("Access-Control-Allow-Origin"), c[0]);
            JsonNode body = r.json();
            assertFalse(body.get("status").asBoolean(), c[0]);
            assertEquals("", body.get("path").asText(), c[0]);
            assertFalse(body.get("message").asText().isBlank(), c[0]);
            if (c[2] != null) {
                assertEquals(c[2], body.get("field").asText(), c[0]);
            }
        }
        assertEquals(0, http.get("/functions").json().get("items").size());
        assertEquals(415, http.send("POST", "/createFunc", "application/json", "{}".getBytes(StandardCharsets.UTF_8)).status());
    }

    @Test
    void funcInvocationCountCountsCallsInTheWindow() {
        String path = URI.create(http.form("/createFunc", "name=counted&image=granda%2Fhello").json().get("path").asText()).getPath();
        for (int i = 0; i < 3; i++) {
            http.send("POST", path, null, null);
        }
        JsonNode body = http.get("/funcInvocationCount?funcname=counted&duration=60").json();
        assertTrue(body.get("status").asBoolean());
        assertEquals(3, body.get("count").asInt());
        assertEquals(3, http.get("/funcInvocationCount?funcname=counted").json().get("count").asInt());
        HttpTestServer.Reply missing = http.get("/funcInvocationCount");
        assertEquals(400, missing.status());
        assertFalse(missing.json().get("status").asBoolean());
        assertEquals(400, http.get("/funcInvocationCount?funcname=counted&duration=x").status());
        assertEquals(404, http.get("/funcInvocationCount?funcname=nobody").status());
        assertEquals("*", http.get("/funcInvocationCount?funcname=counted").header("Access-Control-Allow-Origin"));
    }

    @Test
    void invocationDetailsListsNameTimeSecondsStatus() {
        String okPath = URI.create(http.form("/createFunc", "name=detailed&image=granda%2Fhello").json().get("path").asText()).getPath();
        http.send("POST", okPath, null, null);
        http.send("POST", okPath, null, null);
        JsonNode data = http.get("/invocationDetails?function=detailed").json().get("data");
        assertEquals(2, data.size());
        JsonNode row = data.get(0);
        assertEquals(4, row.size());
        assertEquals("detailed", row.get(0).asText());
        assertTrue(SQLITE_TIME.matcher(row.get(1).asText()).matches(), row.get(1).asText());
        Double.parseDouble(row.get(2).asText());
        assertEquals("Success", row.get(3).asText());
        assertEquals(400, http.get("/invocationDetails").status());
        assertEquals(404, http.get("/invocationDetails?function=nobody").status());
        assertTrue(http.get("/invocationDetails?function=nobody").json().get("data").isArray());
    }

    @Test
    void corsPreflightIsAnswered() {
        HttpTestServer.Reply r = http.send(http.request("/createFunc")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://example.com").header("Access-Control-Request-Method", "POST").build());
        assertEquals(204, r.status());
        assertEquals("*", r.header("Access-Control-Allow-Origin"));
        assertTrue(r.header("Access-Control-Allow-Methods").contains("POST"));
    }
}
