package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar as an operator runs it: configured by flags and environment, one log line per call, and a clean
 * shutdown on SIGTERM that lets a call under way finish and leaves no container behind.
 */
class GrandaServerJarIT {

    @TempDir
    Path dataDir;
    private Process process;
    private final String ownerId = "test-jar-" + UUID.randomUUID().toString().substring(0, 8);

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

    private static Path jar() {
        Path jar = Path.of("target", "granda-server.jar");
        assertTrue(Files.exists(jar), "run after packaging: " + jar.toAbsolutePath());
        return jar;
    }

    /** The admin key a first start prints in its banner. */
    private static final Pattern PRINTED_KEY = Pattern.compile("gk_[0-9a-z]{12}_[0-9a-z]{32}");

    private ServerHarness startJar(int port, Path log, String key) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar().toString(), "--port", Integer.toString(port), "--host", "127.0.0.1")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        // The data dir and owner id come from the environment, as under a service manager.
        pb.environment().put("GRANDA_DATA_DIR", dataDir.toString());
        pb.environment().put("GRANDA_OWNER_ID", ownerId);
        process = pb.start();
        ServerHarness health = new ServerHarness(port, null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            assertTrue(process.isAlive(), () -> "server exited: " + read(log));
            try {
                if (health.get("/health").status() == 200) {
                    return new ServerHarness(port, key != null ? key : printedKey(log));
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server did not become healthy: " + read(log));
    }

    /** @return the admin key the server printed at its first start */
    private static String printedKey(Path log) {
        Matcher m = PRINTED_KEY.matcher(read(log));
        assertTrue(m.find(), "no admin key printed: " + read(log));
        String key = m.group();
        assertFalse(m.find() && !m.group().equals(key), "one key printed");
        return key;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Test
    void sigtermLetsTheCallUnderWayFinishThenRemovesEverything() throws Exception {
        Path log = dataDir.resolve("server.log");
        // A first start without --admin-key: the server makes one and prints it, once, as ./granda start shows it.
        ServerHarness http = startJar(freePort(), log, null);
        assertEquals(401, new ServerHarness(0, null).send("GET", http.base() + "/functions", null, null).status());
        assertTrue(read(log).contains("Granda admin API key (shown this once"), read(log));
        ServerHarness.Reply created = http.createFunction("{\"name\":\"slow\",\"image\":\"granda-test-busybox\","
                + "\"timeoutSeconds\":20,\"env\":{\"SCRIPT\":\"sleep 2; echo finished $1\"}}");
        assertEquals(201, created.status(), created.body());
        String url = created.json().get("url").asText();
        ServerHarness.Reply quick = http.call(created.json().get("path").asText(), "quick");
        assertEquals(200, quick.status(), quick.body());

        CompletableFuture<ServerHarness.Reply> inFlight = CompletableFuture.supplyAsync(() -> http.call(url, "late"));
        long waitStart = System.nanoTime();
        while (Docker.containersOf(ownerId).isEmpty() && System.nanoTime() - waitStart < TimeUnit.SECONDS.toNanos(10)) {
            Thread.sleep(20);
        }
        assertEquals(1, Docker.containersOf(ownerId).size(), "the slow call's container is running");
        process.destroy(); // SIGTERM

        ServerHarness.Reply answer = inFlight.get(30, TimeUnit.SECONDS);
        assertEquals(200, answer.status(), answer.body());
        assertEquals("finished late\n", answer.body());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "server exits after SIGTERM");
        assertEquals(143, process.exitValue(), "exit status of a JVM ended by SIGTERM");
        assertEquals(List.of(), Docker.containersOf(ownerId), "no container is left behind");

        String output = read(log);
        long callLines = output.lines().filter(l -> l.contains(" call ") && l.contains("function=slow")).count();
        assertEquals(2, callLines, "one log line per call:\n" + output);
        assertTrue(output.contains("Granda server stopped"), output);

        // The store kept both calls, and the key's hash: a restarted server lists them for the same key, and prints
        // no key again. The key itself is nowhere in the data directory.
        Path log2 = dataDir.resolve("server2.log");
        ServerHarness restarted = startJar(freePort(), log2, http.key());
        JsonNode calls = restarted.get("/functions/slow/invocations").json().get("items");
        assertEquals(2, calls.size());
        assertFalse(PRINTED_KEY.matcher(read(log2)).find(), "a key is printed at the first start only: " + read(log2));
        String secret = http.key().substring(http.key().lastIndexOf('_') + 1);
        try (var files = Files.walk(dataDir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().endsWith(".log"))
                    .toList()) {
                assertFalse(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(secret),
                        "the admin key is in " + f);
            }
        }
        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    }

    @Test
    void badConfigurationStopsWithAClearMessage() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar().toString(), "--port", "not-a-port").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue());
        assertTrue(out.contains("port must be a whole number"), out);
    }
}
