package io.granda.runtimes;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The program style (docs/runtimes.md): the original Granda's run-mode programs, run once per request with the
 * payload as their last argument (when it fits in one) and on stdin, answered as Granda answers a run-mode call. The
 * sample (test resources {@code samples/*-program}) behaves by its argument and echoes stdin when it has none.
 */
abstract class ProgramShimContract extends ShimContract {

    /** @return the program's name in messages, e.g. {@code handler.py} */
    abstract String programName();

    @Override
    String echoTarget() {
        return "/";
    }

    @Test
    void thePayloadIsTheLastArgumentAndOnStdin() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/", "hello");
            assertEquals(200, r.status(), r.text());
            assertEquals("text/plain; charset=utf-8", r.header("content-type"));
            assertEquals("arg=hello stdin=hello\n", r.text());
        }
    }

    @Test
    void anEmptyPayloadIsNoArgument() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/", "");
            assertEquals(200, r.status(), r.text());
            assertEquals("", r.text());
        }
    }

    @Test
    void aPayloadWithANulByteIsOnStdinOnly() throws Exception {
        byte[] payload = {'a', 0, 'b'};
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.send("POST", "/", Map.of(), payload);
            assertEquals(200, r.status(), r.text());
            assertArrayEquals(payload, r.body());
        }
    }

    @Test
    void aPayloadTooLongForOneArgumentIsOnStdinOnly() throws Exception {
        byte[] fits = new byte[128 * 1024 - 1];
        Arrays.fill(fits, (byte) 'a');
        byte[] tooLong = new byte[128 * 1024];
        Arrays.fill(tooLong, (byte) 'a');
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.send("POST", "/", Map.of(), fits);
            assertEquals(200, r.status(), r.text());
            assertTrue(r.text().startsWith("arg=aaaa"), r.text().substring(0, Math.min(40, r.text().length())));
            HotClient.Response onStdin = client.send("POST", "/", Map.of(), tooLong);
            assertArrayEquals(tooLong, onStdin.body());
        }
    }

    @Test
    void aNonZeroExitIs502WithTheJsonOfARunModeFailure() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/", "fail");
            assertEquals(502, r.status());
            assertEquals("application/json", r.header("content-type"));
            Map<String, Object> json = MiniJson.object(r.text());
            assertEquals("function_error", json.get("error"));
            assertEquals(programName() + " exited with code 3", json.get("message"));
            assertEquals(3.0, json.get("exitCode"));
            assertTrue(((String) json.get("logTail")).contains("something broke"), r.text());
            assertEquals("partial\n", json.get("output"));
            assertTrue(shim.stderr().contains("something broke"), "stderr goes to the log too: " + shim.stderr());
        }
    }

    @Test
    void theProgramLearnsTheRequestFromItsEnvironment() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.send("PATCH", "/some/where?x=1&y=%20", Map.of(),
                    "env".getBytes(StandardCharsets.UTF_8));
            assertEquals("PATCH /some/where x=1&y=%20 nosocket\n", r.text(), "no GRANDA_SOCKET for the program");
        }
    }

    @Test
    void theDeadlineKillsTheProgram() throws Exception {
        try (HotClient client = shim.connect()) {
            long started = System.nanoTime();
            HotClient.Response r = client.send("POST", "/", Map.of("Granda-Timeout-Ms", "300"),
                    "sleep".getBytes(StandardCharsets.UTF_8));
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertEquals(502, r.status());
            assertTrue(tookMs < 5000, "answered after " + tookMs + " ms");
            Map<String, Object> json = MiniJson.object(r.text());
            assertEquals("function_error", json.get("error"));
            assertNull(json.get("exitCode"));
            assertEquals(programName() + " was still running at its deadline (300 ms) and was killed",
                    json.get("message"));
            assertEquals("arg=hello stdin=hello\n", client.post("/", "hello").text(), "and serves the next call");
        }
    }

    @Test
    void aProcessLeftRunningDoesNotHoldTheAnswer() throws Exception {
        try (HotClient client = shim.connect()) {
            long started = System.nanoTime();
            HotClient.Response r = client.post("/", "leave");
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertEquals(200, r.status(), r.text());
            assertEquals("left\n", r.text());
            assertTrue(tookMs < 5000, "answered after " + tookMs + " ms");
        }
    }
}
