package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 8's durability test, against the packaged server, a real Docker engine and a real SQLite file: 1,000 async
 * events are sent while the server is killed with SIGKILL part-way; a client that got no answer sends the event
 * again after the restart, with the same Idempotency-Key, as a client of any queue would. Afterwards every event
 * is stored exactly once and has succeeded exactly once: attempts beyond the first are only those the kill
 * interrupted.
 */
class AsyncDurabilityIT {

    private static final int EVENTS = 1_000;
    private static final int SENDERS = 8;
    private static final int KILL_AFTER = 300;
    private static final int CONCURRENCY = 4;

    @TempDir
    Path dataDir;
    private Process process;
    private final String ownerId = "test-async-" + UUID.randomUUID().toString().substring(0, 8);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void cleanUp() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
        for (String id : Docker.containersOf(ownerId)) {
            Docker.run("rm", "-f", id);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private ServerHarness startJar(int port, Path log) throws Exception {
        Path jar = Path.of("target", "granda-server.jar");
        assertTrue(Files.exists(jar), "run after packaging: " + jar.toAbsolutePath());
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "--port", Integer.toString(port), "--host", "127.0.0.1",
                "--data-dir", dataDir.toString(), "--owner-id", ownerId, "--admin-key", ServerHarness.ADMIN_KEY)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ServerHarness http = new ServerHarness(port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            assertTrue(process.isAlive(), () -> "server exited: " + read(log));
            try {
                if (http.get("/health").status() == 200) {
                    return http;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server did not become healthy: " + read(log));
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Sends event n; @return its id when the server answered 202, null when the server did not answer. */
    private String send(String url, int n) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(30))
                    .header("X-Granda-Invoke", "async")
                    .header("Idempotency-Key", "event-" + n)
                    .POST(HttpRequest.BodyPublishers.ofString("event-" + n)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, r.statusCode(), r.body());
            return ServerHarness.JSON.readTree(r.body()).get("invocationId").asText();
        } catch (IOException e) {
            return null; // the server is gone: not accepted as far as this client knows
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Test
    void everyAcceptedEventSucceedsExactlyOnceAcrossAKill9() throws Exception {
        ServerHarness http = startJar(freePort(), dataDir.resolve("server1.log"));
        ServerHarness.Reply created = http.createFunction("{\"name\":\"sink\",\"image\":\"granda-hot-echo\","
                + "\"mode\":\"hot\",\"maxInstances\":" + CONCURRENCY + ",\"timeoutSeconds\":10}");
        assertEquals(201, created.status(), created.body());
        String path = created.json().get("path").asText();
        ServerHarness.Reply config = http.send("PUT", "/functions/sink/async-config", "application/json",
                "{\"concurrency\":" + CONCURRENCY + ",\"maxAttempts\":3,\"initialBackoffMs\":100}");
        assertEquals(200, config.status(), config.body());

        // Phase 1: 8 senders until the server dies; it is killed once 300 events were accepted.
        Map<Integer, String> accepted = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Integer> unanswered = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        String url1 = http.base() + path + "/sleep/20";
        try (ExecutorService senders = Executors.newFixedThreadPool(SENDERS)) {
            List<Future<?>> running = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                running.add(senders.submit(() -> {
                    int n;
                    while ((n = next.getAndIncrement()) < EVENTS) {
                        String id = send(url1, n);
                        if (id == null) {
                            unanswered.add(n);
                            return;
                        }
                        accepted.put(n, id);
                        if (accepted.size() == KILL_AFTER) {
                            process.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
                        }
                    }
                }));
            }
            for (Future<?> f : running) {
                f.get(120, TimeUnit.SECONDS);
            }
        }
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, process.exitValue(), "killed by SIGKILL");
        int acceptedBeforeKill = accepted.size();
        assertTrue(acceptedBeforeKill >= KILL_AFTER && acceptedBeforeKill < EVENTS, "killed part-way: "
                + acceptedBeforeKill);

        // Phase 2: restart on the same data directory; resend what got no answer and send the rest.
        http = startJar(freePort(), dataDir.resolve("server2.log"));
        String url2 = http.base() + path + "/sleep/20";
        List<Integer> toSend = new ArrayList<>(unanswered);
        for (int n = next.get(); n < EVENTS; n++) {
            toSend.add(n);
        }
        next.set(Math.min(next.get(), EVENTS));
        for (int n = 0; n < EVENTS; n++) {
            if (!accepted.containsKey(n) && !toSend.contains(n)) {
                toSend.add(n);
            }
        }
        ConcurrentLinkedQueue<Integer> queue = new ConcurrentLinkedQueue<>(toSend);
        try (ExecutorService senders = Executors.newFixedThreadPool(SENDERS)) {
            List<Future<?>> running = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                running.add(senders.submit(() -> {
                    for (Integer n; (n = queue.poll()) != null; ) {
                        String id = send(url2, n);
                        assertTrue(id != null, "the restarted server answers");
                        String before = accepted.putIfAbsent(n, id);
                        assertTrue(before == null || before.equals(id),
                                "a resent event keeps its id (idempotency key): " + before + " vs " + id);
                    }
                }));
            }
            for (Future<?> f : running) {
                f.get(120, TimeUnit.SECONDS);
            }
        }
        assertEquals(EVENTS, accepted.size());

        // Every event reaches a final state: succeeded, once.
        ServerHarness h = http;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Map<String, JsonNode> events;
        while (true) {
            events = allEvents(h);
            long succeeded = events.values().stream().filter(e -> e.get("status").asText().equals("succeeded")).count();
            if (succeeded == EVENTS || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(250);
        }
        assertEquals(EVENTS, events.size(), "each event stored once: no loss, no duplicate");
        int interrupted = 0;
        for (Map.Entry<Integer, String> a : accepted.entrySet()) {
            JsonNode e = events.get(a.getValue());
            assertTrue(e != null, "accepted event " + a.getKey() + " is stored");
            assertEquals("succeeded", e.get("status").asText(), e.toString());
            assertEquals("event-" + a.getKey(), e.get("result").get("body").asText());
            assertEquals(0, e.get("failedAttempts").asInt(), e.toString());
            assertEquals(1 + e.get("interruptedAttempts").asInt(), e.get("attempts").asInt(),
                    "run again only when the kill interrupted it: " + e);
            interrupted += e.get("interruptedAttempts").asInt();
        }
        assertTrue(interrupted <= CONCURRENCY, "at most the events running at the kill ran again: " + interrupted);
        // The function ran once per event, plus the interrupted attempts; the records of calls that ended in the
        // kill's last moments may not have been written, so the count is at most that.
        long calls = h.get("/functions/sink/usage").json().get("calls").asLong();
        assertTrue(calls <= EVENTS + interrupted && calls >= EVENTS - 100, "metered calls " + calls);
        System.out.printf("async durability: %d accepted before the kill, %d unanswered and resent, %d attempts"
                + " interrupted and run again, %d succeeded%n", acceptedBeforeKill, unanswered.size(), interrupted,
                events.size());
    }

    private static Map<String, JsonNode> allEvents(ServerHarness http) {
        Map<String, JsonNode> all = new HashMap<>();
        String cursor = null;
        do {
            JsonNode page = http.get("/functions/sink/events?limit=1000" + (cursor == null ? "" : "&cursor=" + cursor))
                    .json();
            page.get("events").forEach(e -> all.put(e.get("invocationId").asText(), e));
            cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
        } while (cursor != null);
        return all;
    }
}
