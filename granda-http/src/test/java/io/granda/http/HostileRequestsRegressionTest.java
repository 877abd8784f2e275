package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.http.internal.Json;
import io.granda.testkit.FakeBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regressions for the 5xx answers {@link HostileRequestsFuzzTest} found, one test per bug, each with the input that
 * triggered it.
 */
class HostileRequestsRegressionTest {

    private HttpTestServer http;

    @BeforeEach
    void start() {
        http = new HttpTestServer(Granda.builder().backend(new FakeBackend()).build(), GrandaHttpConfig.DEFAULTS);
    }

    @AfterEach
    void stop() {
        http.close();
    }

    /** Bug 1: an unparsable Content-Type made Helidon's lazy parser throw through the handler: 500. */
    @Test
    void emptyContentTypeIs415NotA500() {
        for (String path : new String[] {"/createFunc", "/createCodeFunc", "/functions"}) {
            for (String type : new String[] {"", "/", "application/"}) {
                String answer = send("POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: " + type
                        + "\r\nContent-Length: 2\r\n\r\n{}");
                assertEquals(415, status(answer), path + " with Content-Type '" + type + "': " + answer);
                JsonNode body = body(answer);
                assertEquals("unsupported_media_type", body.get("error").asText());
                assertTrue(body.hasNonNull("message"));
            }
        }
        assertEquals(415, status(send("PUT /functions/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: \r\n"
                + "Content-Length: 2\r\n\r\n{}")));
    }

    /** Bug 2: a request method that is no HTTP token (non-ASCII) was Helidon's 500 "Internal error". */
    @Test
    void invalidMethodTokenIs400NotA500() {
        byte[] request = "G\u00c9T /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8);
        String answer = send(request);
        assertEquals(400, status(answer), answer);
        assertEquals("invalid_request", body(answer).get("error").asText());
        assertEquals(200, http.get("/health").status());
    }

    /** Bug 3: a body cut short (chunked, or fewer bytes than Content-Length) was a 500 from the broken read. */
    @Test
    void bodyEndingTooEarlyIs400NotA500() {
        String chunked = send("POST /functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}");
        assertEquals(400, status(chunked), chunked);
        assertEquals("incomplete_body", body(chunked).get("error").asText());

        String shortBody = send("POST /createFunc HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\na=b");
        assertEquals(400, status(shortBody), shortBody);
        assertEquals("incomplete_body", body(shortBody).get("error").asText());
        assertEquals(200, http.get("/health").status());
    }

    /** Sends a request with the server's admin key added after its request line, as every caller must. */
    private String send(String request) {
        int lineEnd = request.indexOf("\r\n") + 2;
        String withKey = request.substring(0, lineEnd) + "Authorization: Bearer " + http.adminKey + "\r\n"
                + request.substring(lineEnd);
        return send(withKey.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Writes the request, half-closes the connection (so that a short body ends), reads the whole answer. */
    private String send(byte[] request) {
        try (Socket s = new Socket("127.0.0.1", http.server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int status(String answer) {
        return Integer.parseInt(answer.split(" ", 3)[1]);
    }

    private static JsonNode body(String answer) {
        try {
            return Json.MAPPER.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + answer, e);
        }
    }
}
