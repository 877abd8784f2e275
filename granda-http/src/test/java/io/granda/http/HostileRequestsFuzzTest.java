package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.http.internal.Json;
import io.granda.testkit.FakeBackend;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 7, hostile requests: fuzzes the whole HTTP API (management API, usage, the original API, function URLs,
 * health) with malformed and hostile requests over raw sockets, against a real Helidon server and a fake backend.
 *
 * <p>The properties: no answer is a 5xx; every 4xx Granda itself produces is JSON with {@code error} and
 * {@code message}; and after each property the server is healthy ({@code GET /health} is 200) and a normal create and
 * list still work. No valid function route is ever called, so the documented 502/504 of function calls cannot occur.
 *
 * <p>Helidon rejects some malformed HTTP itself, before any Granda code runs (a broken request line, invalid
 * percent-encoding, oversized or invalid headers, broken chunked encoding): those answers come from
 * {@link GrandaHttp#directHandlers}, JSON like every other, or the connection is closed without an answer. The
 * properties marked "protocol level" allow the closed connection, and only that.
 *
 * <p>Requests carry the server's admin key (so that the fuzz reaches the handlers behind authentication), except in
 * {@link #credentialsThatAreNotAValidKey}, which fuzzes the credentials themselves: every one of them is refused
 * with a JSON 401 and changes nothing.
 */
class HostileRequestsFuzzTest {

    private static final int TRIES = 200;
    private static HttpTestServer http;
    /** A key that was valid once. */
    private static String revokedKey;
    private static String revokedKeyId;

    @BeforeContainer
    static void start() {
        http = new HttpTestServer(Granda.builder().backend(new FakeBackend())
                // Sends many invalid keys from one address on purpose, to see each refused as such: the limit on
                // failed authentications (AuthFailureThrottleTest) would answer 429 instead.
                .authFailureLimit(0).build(), GrandaHttpConfig.DEFAULTS);
        var issued = http.granda.apiKeys().issue(io.granda.core.access.Tenant.DEFAULT,
                io.granda.core.access.Role.ADMIN, "revoked at once");
        revokedKey = issued.token();
        revokedKeyId = issued.key().keyId();
        http.granda.apiKeys().revoke(revokedKeyId);
    }

    @AfterContainer
    static void stop() {
        if (http != null) {
            http.close();
        }
    }

    /** After every property: still healthy, and the ordinary create and list work. */
    @AfterProperty
    void serverStaysHealthy() {
        assertEquals(200, http.get("/health").status());
        String name = "sane-" + Long.toHexString(System.nanoTime());
        HttpTestServer.Reply created = http.json("POST", "/functions", "{\"name\":\"" + name + "\",\"image\":\"granda/hello\"}");
        assertEquals(201, created.status(), created.text());
        HttpTestServer.Reply list = http.get("/functions");
        assertEquals(200, list.status());
        boolean found = false;
        for (JsonNode f : list.json().get("items")) {
            found |= f.get("name").asText().equals(name);
        }
        assertTrue(found, "the function just created is listed");
    }

    // ---- properties --------------------------------------------------------------------------------------------

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void jsonBodiesToCreateAndUpdate(@ForAll("jsonBodies") byte[] body, @ForAll("createOrUpdate") String target) {
        String[] methodPath = target.split(" ", 2);
        Answer a = raw(request(methodPath[0], methodPath[1], Map.of("Content-Type", "application/json"), body));
        assertGrandaAnswer(a, methodPath[0] + " " + methodPath[1] + " with " + preview(body));
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void multipartWithBrokenBoundaries(@ForAll("multipartContentTypes") String contentType,
                                       @ForAll("multipartBodies") byte[] body,
                                       @ForAll("createOrUpdate") String target) {
        String[] methodPath = target.split(" ", 2);
        Answer a = raw(request(methodPath[0], methodPath[1], Map.of("Content-Type", contentType), body));
        assertGrandaAnswer(a, target + " multipart " + contentType + " " + preview(body));
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void formBodiesToTheOriginalApi(@ForAll("formBodies") String body,
                                    @ForAll("formPaths") String path,
                                    @ForAll("formContentTypes") String contentType) {
        Answer a = raw(request("POST", path, Map.of("Content-Type", contentType), body.getBytes(StandardCharsets.UTF_8)));
        assertGrandaAnswer(a, "POST " + path + " " + contentType + " " + body);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void queryParameters(@ForAll("queryPaths") String path, @ForAll("queries") String query) {
        Answer a = raw(request("GET", path + "?" + query, Map.of(), null));
        // A query with invalid percent-encoding may be refused by Helidon itself.
        assertAnswer(a, "GET " + path + "?" + query, true);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void oddPathsAndMethods(@ForAll("methods") String method, @ForAll("oddPaths") String path) {
        Answer a = raw(request(method, path, Map.of(), null));
        // Helidon itself refuses what is not a valid request target (invalid percent-encoding, %00, control bytes).
        assertAnswer(a, method + " " + path, true);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void wrongMethodsOnEveryRoute(@ForAll("methods") String method, @ForAll("routes") String path) {
        Answer a = raw(request(method, path, Map.of("Content-Type", "application/json"), "{}".getBytes(StandardCharsets.UTF_8)));
        assertGrandaAnswer(a, method + " " + path);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void oddAndHugeHeaders(@ForAll("headerSets") Map<String, String> headers, @ForAll("routes") String path,
                           @ForAll("bodyMethods") String method) {
        byte[] request = request(method, path, headers, "{\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8));
        Answer a = raw(request);
        if (unknownTransferCoding(a, request)) {
            return;
        }
        // Oversized or invalid headers are refused by Helidon before routing (400, JSON from the direct handlers).
        assertAnswer(a, method + " " + path + " headers " + preview(headers.toString().getBytes(StandardCharsets.UTF_8)), true);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void functionUrlsWithRandomRoutes(@ForAll("methods") String method, @ForAll("functionUrls") String path,
                                      @ForAll("randomBytes") byte[] body) {
        Answer a = raw(request(method, path, Map.of("Content-Type", "application/octet-stream"), body));
        assertAnswer(a, method + " " + path, true);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void credentialsThatAreNotAValidKey(@ForAll("managementRoutes") String target,
                                        @ForAll("badCredentials") Map<String, String> credentials) {
        int functions = http.granda.functions().size();
        int keys = http.granda.apiKeys().keys(null).size();
        int tenants = http.granda.apiKeys().tenants().size();
        String[] methodPath = target.split(" ", 2);
        Map<String, String> headers = new LinkedHashMap<>(credentials);
        headers.put("Content-Type", methodPath[1].startsWith("/create") ? "application/x-www-form-urlencoded"
                : "application/json");
        byte[] body = methodPath[1].startsWith("/create")
                ? "name=fuzzed&image=granda%2Fhello&runtime=python&code=x".getBytes(StandardCharsets.UTF_8)
                : "{\"name\":\"fuzzed\",\"image\":\"granda/hello\",\"id\":\"fuzzed\"}".getBytes(StandardCharsets.UTF_8);
        Answer a = raw(request(methodPath[0], methodPath[1], headers, body, false));
        String what = target + " with " + credentials;
        assertGrandaAnswer(a, what);
        assertEquals(401, a.status, what + ": " + a.text());
        assertTrue(a.headers.getOrDefault("www-authenticate", "").startsWith("Bearer"), what);
        assertEquals(functions, http.granda.functions().size(), "no function made by " + what);
        assertEquals(keys, http.granda.apiKeys().keys(null).size(), "no key made or changed by " + what);
        assertEquals(tenants, http.granda.apiKeys().tenants().size(), "no tenant made by " + what);
        assertTrue(http.granda.apiKeys().keys(null).stream().noneMatch(k -> k.revoked() && !k.keyId().equals(revokedKeyId)),
                "no key revoked by " + what);
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void malformedHttp(@ForAll("malformedRequests") byte[] request) {
        Answer a = raw(request);
        if (unknownTransferCoding(a, request)) {
            return;
        }
        assertAnswer(a, preview(request), true);
    }

    // ---- assertions --------------------------------------------------------------------------------------------

    /** A well-formed HTTP request: Granda answers it, so a 4xx must be its JSON error. */
    private static void assertGrandaAnswer(Answer a, String what) {
        assertAnswer(a, what, false);
    }

    /**
     * Helidon answers a Transfer-Encoding it does not implement (e.g. {@code gzip, chunked}) with 501, as RFC 9112
     * section 6.1 says a server should: the one 5xx that is the documented answer to a request, not a failure.
     */
    private static boolean unknownTransferCoding(Answer a, byte[] request) {
        return a.status == 501 && new String(request, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT)
                .contains("\r\ntransfer-encoding:");
    }

    private static void assertAnswer(Answer a, String what, boolean protocolLevel) {
        if (a.status < 0) {
            if (!protocolLevel) {
                fail("no answer to a well-formed request: " + what);
            }
            return; // Helidon closed a connection it could not parse
        }
        if (a.status >= 500) {
            fail("answered " + a.status + " to " + what + ": " + a.text());
        }
        if (a.status >= 400) {
            boolean json = a.contentType().toLowerCase(Locale.ROOT).startsWith("application/json");
            if (!json) {
                fail("non-JSON " + a.status + " to " + what + ": " + a.text());
            }
            JsonNode body;
            try {
                body = Json.MAPPER.readTree(a.body);
            } catch (IOException e) {
                throw new AssertionError("4xx claims JSON but is not: " + a.text() + " for " + what, e);
            }
            assertTrue(body.hasNonNull("error") && body.hasNonNull("message"),
                    "4xx without error and message: " + a.text() + " for " + what);
        }
    }

    // ---- generators --------------------------------------------------------------------------------------------

    private static final String[] FIELDS = {"name", "description", "image", "timeoutSeconds", "memoryMb", "env", "mode",
            "runtime", "code", "files", "dependencies", "concurrency", "minInstances", "maxInstances",
            "keepAliveSeconds", "timeout", "kind", "revision", "id", "url"};

    @Provide
    Arbitrary<String> createOrUpdate() {
        return Arbitraries.of("POST /functions", "POST /functions/", "PUT /functions/fuzz", "PUT /functions/sane-none",
                "PUT /functions/%C3%A9", "PUT /functions/" + "n".repeat(300));
    }

    private static Arbitrary<String> hostileScalar() {
        return Arbitraries.oneOf(
                Arbitraries.of("null", "true", "false", "0", "-1", "1e400", "-1e400", "1E-400", "9".repeat(400),
                        "9223372036854775808", "-9223372036854775809", "2147483648", "1.5", "NaN", "Infinity",
                        "\"\"", "\" \"", "[]", "{}", "[1,2]", "{\"a\":1}", "\"\\u0000\"", "\"\\ud800\"",
                        "\"\\udfff\\ud800\"", "\"a\\\"b\"", "\"\\u202e\\u0000\\n\\t\"", "\"..\\/..\\/etc\\/passwd\"",
                        "\"" + "x".repeat(70_000) + "\"", "\"granda/hello\"", "\"hot\"", "\"run\"", "\"java\"",
                        "\"python\"", "{\"\":\"\"}", "{\"A\":[1]}", "[{\"path\":\"../x\",\"content\":\"y\"}]"),
                Arbitraries.strings().ofMaxLength(40).map(s -> Json.MAPPER.getNodeFactory().textNode(s).toString()),
                Arbitraries.longs().map(l -> Long.toString(l)),
                Arbitraries.doubles().map(d -> Double.toString(d)));
    }

    private static Arbitrary<String> objectWithWrongTypes() {
        Arbitrary<String> member = Combinators.combine(
                Arbitraries.oneOf(Arbitraries.of(FIELDS), Arbitraries.strings().ofMaxLength(10)),
                hostileScalar()).as((k, v) -> Json.MAPPER.getNodeFactory().textNode(k) + ":" + v);
        return member.list().ofMaxSize(8).map(ms -> "{" + String.join(",", ms) + "}");
    }

    @Provide
    Arbitrary<byte[]> jsonBodies() {
        Arbitrary<String> text = Arbitraries.oneOf(
                objectWithWrongTypes(),
                // a plausible function with one field wrong
                Combinators.combine(Arbitraries.of(FIELDS), hostileScalar()).as((f, v) ->
                        "{\"name\":\"fuzz\",\"image\":\"granda/hello\",\"" + f + "\":" + v + "}"),
                Arbitraries.of(
                        "[".repeat(10_000) + "]".repeat(10_000),
                        "[".repeat(10_000),
                        "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000),
                        "{\"name\":\"fuzz\",\"env\":" + "{\"a\":".repeat(5_000) + "1" + "}".repeat(5_001),
                        "{\"name\":\"a\",\"name\":\"b\",\"image\":\"granda/hello\"}",
                        "{\"name\":\"dup\",\"image\":\"granda/hello\",\"env\":{\"A\":\"1\",\"A\":\"2\"}}",
                        "{\"name\":\"fuzz\",\"image\":\"granda/hello\"} trailing",
                        "{\"name\":\"fuzz\",\"image\":\"granda/hello\"}{}",
                        "1" + "0".repeat(100_000),
                        "-" + "9".repeat(5000) + ".5e99999999999",
                        "{\"name\":\"fuzz\",\"timeoutSeconds\":1e999999999}",
                        "{\"name\":\"fuzz\",\"memoryMb\":" + "9".repeat(2000) + "}",
                        "{\"name\":\"\\ud83d\\ude00\",\"image\":\"granda/hello\"}",
                        "{\"name\":\"\\u0000\",\"image\":\"granda/hello\"}",
                        "{\"name\":\"../../etc\",\"image\":\"granda/hello\"}",
                        "{\"name\":\"" + "n".repeat(100_000) + "\",\"image\":\"granda/hello\"}",
                        "{\"name\":\"fuzz\",\"image\":\"granda/hello\",\"env\":{\"\":\"\",\"=\":\"=\",\"A\\u0000\":\"x\"}}",
                        "{\"name\":\"fuzz\",\"runtime\":\"java\",\"code\":\"x\",\"files\":{\"../a\":\"b\"}}",
                        "{\"name\":\"fuzz\",\"runtime\":\"nope\",\"code\":\"x\"}",
                        "\"\\ud800\"", "{'name':'single'}", "{name:1}", "", " ", "\t\n", "null", "[]", "0", "\"s\"",
                        "{\"name\":\"fuzz\" /* comment */}", "\uFEFF{\"name\":\"bom\"}"),
                Arbitraries.strings().ofMaxLength(200));
        Arbitrary<byte[]> bytes = Arbitraries.oneOf(
                text.map(s -> s.getBytes(StandardCharsets.UTF_8)),
                randomBytes(),
                Arbitraries.of(invalidUtf8Json()));
        return bytes;
    }

    private static byte[][] invalidUtf8Json() {
        byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xFF, (byte) 0xFE}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE2, (byte) 0x82}};
        List<byte[]> out = new ArrayList<>();
        for (byte[] b : bad) {
            out.add(concat("{\"name\":\"".getBytes(StandardCharsets.UTF_8), b, "\",\"image\":\"granda/hello\"}".getBytes(StandardCharsets.UTF_8)));
            out.add(concat("{\"".getBytes(StandardCharsets.UTF_8), b, "\":1}".getBytes(StandardCharsets.UTF_8)));
            out.add(b);
        }
        return out.toArray(byte[][]::new);
    }

    @Provide
    Arbitrary<byte[]> randomBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(2048);
    }

    @Provide
    Arbitrary<String> multipartContentTypes() {
        return Arbitraries.oneOf(
                Arbitraries.of("multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
                        "multipart/form-data; boundary=B", "multipart/form-data; boundary=\"B\"",
                        "multipart/form-data; boundary=B; boundary=C", "multipart/form-data;boundary=" + "B".repeat(5000),
                        "multipart/form-data; charset=utf-8", "MULTIPART/FORM-DATA; BOUNDARY=B",
                        "multipart/form-data; boundary=\"unterminated"),
                Arbitraries.strings().ofMaxLength(30).map(s -> "multipart/form-data; boundary=" + s.replaceAll("[\\r\\n\\x00-\\x1f\\x7f]", "")));
    }

    @Provide
    Arbitrary<byte[]> multipartBodies() {
        String spec = "{\"name\":\"mp\",\"runtime\":\"python\",\"code\":\"x\"}";
        return Arbitraries.oneOf(
                Arbitraries.of(
                        "",
                        "--B",
                        "--B--",
                        "--B\r\n",
                        "--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n" + spec,
                        "--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n" + spec + "\r\n--B--\r\n",
                        "--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n{bad json\r\n--B--\r\n",
                        "--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n" + spec + "\r\n--B\r\n"
                                + "Content-Disposition: form-data; name=\"archive\"; filename=\"a.zip\"\r\n\r\nnot a zip\r\n--B--\r\n",
                        "--B\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"a.tar.gz\"\r\n\r\n\u001f\u008b garbage\r\n--B--\r\n",
                        "--B\r\nno-colon-header\r\n\r\nx\r\n--B--",
                        "--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--",
                        "--B\r\n\r\n\r\n--B--",
                        "--Bxx",
                        "--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n",
                        "preamble\r\n--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\nnull\r\n--B--")
                        .map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
                Combinators.combine(Arbitraries.strings().ofMaxLength(100), randomBytes())
                        .as((head, tail) -> concat(("--B\r\n" + head).getBytes(StandardCharsets.UTF_8), tail)),
                Combinators.combine(randomBytes(), Arbitraries.of("\r\n--B--", "\r\n--B", "--B\r\n\r\n"))
                        .as((content, end) -> concat(("--B\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"x.zip\"\r\n\r\n")
                                .getBytes(StandardCharsets.UTF_8), content, end.getBytes(StandardCharsets.UTF_8))),
                randomBytes());
    }

    @Provide
    Arbitrary<String> formPaths() {
        return Arbitraries.of("/createFunc", "/createCodeFunc");
    }

    @Provide
    Arbitrary<String> formContentTypes() {
        return Arbitraries.of("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
                "application/x-www-form-urlencoded; charset=nonsense", "text/plain", "application/json", "");
    }

    @Provide
    Arbitrary<String> formBodies() {
        Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.of("name", "image", "description", "time", "runtime",
                "code", "memory"), Arbitraries.strings().ofMaxLength(8));
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of("", "%", "%zz", "%E9", "%C3", "%00", "+", "-1", "0", "99999999999999999999", "1e3", "NaN",
                        "granda/hello", "Go1.7", "Python3", "java", "../../etc/passwd", "x".repeat(5000)),
                Arbitraries.strings().ofMaxLength(30),
                Arbitraries.strings().ofMaxLength(30).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)));
        Arbitrary<String> pair = Arbitraries.oneOf(
                Combinators.combine(key, value).as((k, v) -> k + "=" + v),
                key,
                Arbitraries.of("=", "==", "&", "a=b=c"));
        return Arbitraries.oneOf(pair.list().ofMaxSize(8).map(ps -> String.join("&", ps)),
                Arbitraries.strings().ofMaxLength(100));
    }

    @Provide
    Arbitrary<String> queryPaths() {
        return Arbitraries.of("/usage", "/usage/", "/usage/records.csv", "/functions", "/functions/fuzz/usage",
                "/functions/none/usage", "/functions/fuzz/invocations", "/functions/none/invocations",
                "/functions/fuzz/logs", "/funcInvocationCount", "/invocationDetails", "/health", "/runtimes",
                "/builds/x", "/functions/fuzz/build", "/functions/fuzz/source");
    }

    @Provide
    Arbitrary<String> queries() {
        Arbitrary<String> key = Arbitraries.of("since", "until", "granularity", "limit", "cursor", "tenant", "function",
                "stream", "name", "path", "from", "to", "since");
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of("", "0", "-1", "1", "1000", "1001", "2147483648", "99999999999999999999", "1e3", "0x10",
                        "PT1H", "P-1D", "P999999999999D", "PT-1S", "p1d", "999999999d", "999999999s", "1h", "7d", "90s",
                        "2026-11-26T10:00:00Z", "+1000000000-12-31T23:59:59Z", "-1000000000-01-01T00:00:00Z",
                        "1970-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "now",
                        "minute", "hour", "day", "MINUTE", "week", "second", "%00", "%zz", "%", "%C3%28", "%FF",
                        "+", "%20", "x".repeat(3000), "eyJ", "bm9uc2Vuc2U=", "AAAA", "!!!", "%E2%80%AE"),
                Arbitraries.strings().withCharRange('!', '~').ofMaxLength(40).map(HostileRequestsFuzzTest::queryEscape),
                Arbitraries.strings().ofMaxLength(40).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)));
        return Combinators.combine(key, value).as((k, v) -> k + "=" + v).list().ofMinSize(1).ofMaxSize(5)
                .map(ps -> String.join("&", ps));
    }

    /** Keeps a query printable ASCII without spaces or '#', but leaves '%' alone so that bad escapes get through. */
    private static String queryEscape(String s) {
        return s.replace("#", "%23").replace(" ", "+");
    }

    @Provide
    Arbitrary<String> methods() {
        return Arbitraries.oneOf(
                Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND",
                        "get", "FOO", "X-WEIRD"),
                Arbitraries.strings().withCharRange('A', 'Z').ofMinLength(1).ofMaxLength(12));
    }

    @Provide
    Arbitrary<String> bodyMethods() {
        return Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH");
    }

    @Provide
    Arbitrary<String> routes() {
        return Arbitraries.of("/", "/functions", "/functions/", "/functions/fuzz", "/functions/fuzz/invocations",
                "/functions/fuzz/usage", "/functions/fuzz/instances", "/functions/fuzz/source", "/functions/fuzz/build",
                "/functions/fuzz/logs", "/usage", "/usage/records.csv", "/health", "/runtimes", "/builds/nope",
                "/createFunc", "/createCodeFunc", "/funcInvocationCount", "/invocationDetails", "/console",
                "/console/", "/console/assets/nope.js", "/metrics", "/f", "/f/", "/f/nope", "/nowhere");
    }

    /** Every route that needs a key, with a method it answers to. */
    @Provide
    Arbitrary<String> managementRoutes() {
        return Arbitraries.of("POST /functions", "GET /functions", "GET /functions/fuzz", "PUT /functions/fuzz",
                "DELETE /functions/fuzz", "GET /functions/fuzz/invocations", "GET /functions/fuzz/usage",
                "GET /functions/fuzz/instances", "GET /functions/fuzz/source", "GET /functions/fuzz/build",
                "GET /functions/fuzz/logs", "GET /usage", "GET /usage/records.csv", "GET /runtimes",
                "GET /builds/nope", "POST /createFunc", "POST /createCodeFunc", "GET /funcInvocationCount?funcname=x",
                "GET /invocationDetails?function=x", "POST /tenants", "GET /tenants", "POST /tenants/default/keys",
                "GET /tenants/default/keys", "DELETE /keys/abcd1234", "GET /whoami");
    }

    /** Credentials that are not a valid key: none, malformed, of another scheme, near misses, revoked. */
    @Provide
    Arbitrary<Map<String, String>> badCredentials() {
        String admin = http.adminKey;
        char last = admin.charAt(admin.length() - 1);
        Arbitrary<String> tokens = Arbitraries.oneOf(
                Arbitraries.of("", "gk_", "gk__", "gk_abcd_", revokedKey, admin + "x", admin.toUpperCase(Locale.ROOT),
                        admin.substring(0, admin.length() - 1), admin.substring(0, admin.length() - 1) + (last == '0' ? '1' : '0'),
                        admin.replace("gk_", "GK_"), "gk_aaaa_" + "a".repeat(5000), "null", "undefined", "Bearer " + admin),
                Arbitraries.strings().withCharRange('!', '~').ofMaxLength(80),
                Arbitraries.strings().withChars("0123456789abcdefghjkmnpqrstvwxyz").ofLength(32)
                        .map(secret -> "gk_" + admin.substring(3, 15) + "_" + secret),
                Arbitraries.strings().withChars("0123456789abcdefghjkmnpqrstvwxyz").ofMinLength(4).ofMaxLength(32)
                        .map(id -> "gk_" + id + "_" + "0123456789abcdefghjkmnpqrstvwxyz"));
        Arbitrary<Map<String, String>> authorization = Combinators.combine(
                Arbitraries.of("Bearer ", "bearer ", "BEARER  ", "Basic ", "Digest ", "Token ", "", "Bearer"), tokens)
                .as((scheme, token) -> Map.of("Authorization", (scheme + token).strip().isEmpty() ? "x" : scheme + token))
                // The token "Bearer <admin key>" is there for "Bearer Bearer <key>"; with no scheme of its own it
                // would be the valid key itself (a run of this test once drew exactly that).
                .filter(h -> !h.get("Authorization").equals("Bearer " + admin));
        Arbitrary<Map<String, String>> keyHeader = tokens.filter(t -> !t.isBlank())
                .map(token -> Map.of("X-Granda-Key", token));
        return Arbitraries.oneOf(authorization, keyHeader, Arbitraries.just(Map.of()));
    }

    @Provide
    Arbitrary<String> oddPaths() {
        Arbitrary<String> segment = Arbitraries.oneOf(
                Arbitraries.of("..", ".", "%2e%2e", "%2E%2E", "%2e", "%00", "%", "%zz", "%C3%28", "%FF%FE", "%ED%A0%80",
                        "etc", "passwd", "functions", "f", "usage", "console", "assets", "%2f", "%5c", "..%2f", "..;",
                        ";", "~", "%25", "%u002e", "a b".replace(" ", "%20"), "n".repeat(10_000), "x".repeat(300),
                        "\u00e9", "%E2%80%AE", "*", "?", "?x=%"),
                Arbitraries.strings().withCharRange('!', '~').ofMaxLength(20).map(s -> s.replace("#", "")));
        return Arbitraries.oneOf(
                Arbitraries.of("/functions/../../etc/passwd", "/functions/%2e%2e/%2e%2e/etc/passwd",
                        "/functions/..%2f..%2fetc%2fpasswd", "/functions/%00", "/functions/a%00b", "/functions/%",
                        "/functions/%G1", "/f/../functions", "/f/%2e%2e/functions", "//functions", "/functions//",
                        "/functions/fuzz/../../health", "/console/assets/../../../etc/passwd",
                        "/console/assets/%2e%2e%2fconsole.html", "*", "http://127.0.0.1/functions",
                        "/functions/" + "n".repeat(20_000), "/" + "a/".repeat(3000)),
                segment.list().ofMinSize(1).ofMaxSize(6).map(ss -> "/" + String.join("/", ss)),
                Combinators.combine(Arbitraries.of("/functions/", "/f/", "/console/assets/", "/builds/", "/usage/"),
                        segment.list().ofMinSize(1).ofMaxSize(4)).as((p, ss) -> p + String.join("/", ss)));
    }

    @Provide
    Arbitrary<String> functionUrls() {
        Arbitrary<String> route = Arbitraries.oneOf(
                Arbitraries.strings().withCharRange('a', 'z').numeric().withChars('-', '_').ofMinLength(1).ofMaxLength(60),
                Arbitraries.of("fuzz-", "hello-AAAAAAAAAAAAAAAAAAAAAAAA", "%2e%2e", "..", "%00", "%zz",
                        "r".repeat(5000)));
        Arbitrary<String> rest = Arbitraries.of("", "/", "/a/b", "/..", "/%2e%2e/x", "?q=%", "?a=1&a=2", "/x?%zz",
                "//", "/" + "p".repeat(4000));
        return Combinators.combine(route, rest).as((r, s) -> "/f/" + r + s);
    }

    @Provide
    Arbitrary<Map<String, String>> headerSets() {
        Arbitrary<String> contentType = Arbitraries.oneOf(
                Arbitraries.of("", "application/json", "application/json; charset=ebcdic", "application/json;;;",
                        "application/", "/", ";", "*/*", "application/json; charset=\"", "text/html; boundary=x",
                        "multipart/form-data", "application/x-www-form-urlencoded", "application/x-ndjson",
                        "a".repeat(5000) + "/" + "b".repeat(5000), "application/json; q=1e999",
                        "application/json\u00ff"),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(60));
        Arbitrary<Map<String, String>> single = Combinators.combine(
                Arbitraries.of("Content-Type", "Accept", "If-Match", "Host", "X-Forwarded-Proto", "X-Forwarded-Host",
                        "Forwarded", "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers",
                        "If-None-Match", "Content-Encoding", "Transfer-Encoding", "Expect", "Connection", "Upgrade",
                        "X-Random"),
                Arbitraries.oneOf(contentType, Arbitraries.of("W/\"x\"", "\"-1\"", "\"99999999999999999999\"", "\"0\"",
                        "\"1\"", "*", "gzip", "100-continue", "h2c", "upgrade", "http2", "", "\"", "application/x-ndjson",
                        "host with space", "[::1", "127.0.0.1:99999", "for=\"[::1\";proto=%", "https", "gopher"))
        ).as((k, v) -> {
            Map<String, String> m = new LinkedHashMap<>();
            m.put(k, v);
            return m;
        });
        Arbitrary<Map<String, String>> huge = Arbitraries.of(65_536, 16_384, 8_000).map(n -> {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("X-Huge", "h".repeat(n));
            return m;
        });
        Arbitrary<Map<String, String>> many = Arbitraries.integers().between(50, 2000).map(n -> {
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                m.put("X-Many-" + i, "v" + i);
            }
            return m;
        });
        return Arbitraries.oneOf(single, single.list().ofMaxSize(4).map(ms -> {
            Map<String, String> m = new LinkedHashMap<>();
            ms.forEach(m::putAll);
            return m;
        }), huge, many);
    }

    @Provide
    Arbitrary<byte[]> malformedRequests() {
        Arbitrary<String> fixed = Arbitraries.of(
                "GET\r\n\r\n",
                "GET /health\r\n\r\n",
                "GET /health HTTP/9.9\r\n\r\n",
                "GET /health HTTP/1.1\r\n\r\n", // no Host
                "GET  /health  HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /health HTTP/1.1\nHost: x\n\n",
                " GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
                "\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: x\r\n: novalue\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n",
                "GET /functions/\u00ff\u00fe HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /functions/%ff%fe%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /functions/a b HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /functions/%%% HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /" + "u".repeat(70_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n{}",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{}",
                "POST /f/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{}",
                "POST /createFunc HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\na=b",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n{}\r\n0\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}\r\n0\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: identity\r\n\r\n{}",
                "POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}",
                "POST /createFunc HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na=b\r\nzz\r\n",
                "PUT /functions/fuzz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=\"\r\n{\r\n0\r\n\r\n",
                "POST /f/nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003");
        Arbitrary<String> randomLine = Combinators.combine(
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(40),
                Arbitraries.strings().ofMaxLength(40))
                .as((a, b) -> a + " " + b + " HTTP/1.1\r\nHost: x\r\n\r\n");
        Arbitrary<byte[]> randomHeaderBytes = randomBytes().map(b -> concat(
                "POST /functions HTTP/1.1\r\nHost: x\r\nX-Bin: ".getBytes(StandardCharsets.ISO_8859_1), b,
                "\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)));
        Arbitrary<byte[]> invalidUtf8Path = Arbitraries.of(invalidUtf8Json()).map(b -> concat(
                "GET /functions/".getBytes(StandardCharsets.ISO_8859_1), b,
                " HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)));
        return Arbitraries.oneOf(
                fixed.map(s -> s.getBytes(StandardCharsets.UTF_8)),
                fixed.map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
                randomLine.map(s -> s.getBytes(StandardCharsets.UTF_8)),
                randomHeaderBytes, invalidUtf8Path, randomBytes());
    }

    // ---- raw HTTP ----------------------------------------------------------------------------------------------

    /** A request carrying the admin key, unless {@code headers} hold credentials of their own. */
    private static byte[] request(String method, String target, Map<String, String> headers, byte[] body) {
        return request(method, target, headers, body, true);
    }

    private static byte[] request(String method, String target, Map<String, String> headers, byte[] body,
                                  boolean adminKey) {
        StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        head.append("Host: 127.0.0.1\r\nConnection: close\r\n");
        boolean ownCredentials = headers.keySet().stream().anyMatch(k -> k.equalsIgnoreCase("Authorization")
                || k.equalsIgnoreCase("X-Granda-Key"));
        if (adminKey && !ownCredentials) {
            head.append("Authorization: Bearer ").append(http.adminKey).append("\r\n");
        }
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (body != null && !headers.containsKey("Transfer-Encoding")) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        return concat(head.toString().getBytes(StandardCharsets.UTF_8), body == null ? new byte[0] : body);
    }

    /** An answer: status -1 when the connection closed without one. */
    record Answer(int status, Map<String, String> headers, byte[] body) {
        String contentType() {
            return headers.getOrDefault("content-type", "");
        }

        String text() {
            return new String(body, 0, Math.min(body.length, 2000), StandardCharsets.UTF_8);
        }
    }

    /**
     * Sends bytes on a new connection, half-closes it (so that a body shorter than its Content-Length ends), and
     * reads one answer.
     */
    private static Answer raw(byte[] request) {
        try (Socket s = new Socket("127.0.0.1", http.server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request);
                out.flush();
                s.shutdownOutput();
            } catch (IOException e) {
                // the server may close early on a request it refuses: read what it said
            }
            return readAnswer(s.getInputStream());
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer within 10 s to " + preview(request), e);
        } catch (IOException e) {
            return new Answer(-1, Map.of(), new byte[0]); // reset by the server
        }
    }

    private static Answer readAnswer(InputStream in) throws IOException {
        String statusLine = line(in);
        if (statusLine == null || statusLine.isEmpty()) {
            return new Answer(-1, Map.of(), new byte[0]);
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        String h;
        while ((h = line(in)) != null && !h.isEmpty()) {
            int colon = h.indexOf(':');
            if (colon > 0) {
                headers.putIfAbsent(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try {
            if (headers.containsKey("content-length")) {
                body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                String size;
                while ((size = line(in)) != null) {
                    int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                    if (n == 0) {
                        break;
                    }
                    body.write(in.readNBytes(n));
                    line(in);
                }
            } else {
                body.write(in.readAllBytes());
            }
        } catch (IOException e) {
            // a body cut short still has its status
        }
        return new Answer(status, headers, body.toByteArray());
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                break;
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        if (c == -1 && b.size() == 0) {
            return null;
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String preview(byte[] b) {
        String s = new String(b, 0, Math.min(b.length, 300), StandardCharsets.ISO_8859_1)
                .replace("\r", "\\r").replace("\n", "\\n");
        return b.length > 300 ? s + "... (" + b.length + " bytes)" : s;
    }
}
