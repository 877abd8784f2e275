package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code GET /metrics} scraped by a real Prometheus server (Debian's {@code /usr/bin/prometheus}, which
 * {@code ./granda test} installs): after hot and run-mode calls, some failing, PromQL over the scraped series gives
 * the same billed GB-seconds and call counts as the usage API. Uses a real Docker engine and the locally built
 * granda-hot-echo and granda/hello images.
 */
class GrandaServerPrometheusTest {

    /** The token /metrics asks for in these tests. */
    private static final String METRICS_KEY = "metrics-token-4f9c2a7e1b";

    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");

    @TempDir
    Path dataDir;
    @TempDir
    Path promDir;
    private String ownerId;
    private GrandaServer server;
    private ServerHarness http;
    private Process prometheus;

    @BeforeEach
    void start() {
        if (!Files.isExecutable(PROMETHEUS)) {
            String why = PROMETHEUS + " is missing: install Debian's prometheus package"
                    + " (apt-get install -y --no-install-recommends prometheus; ./granda test does it)";
            if (System.getenv("CI") != null) {
                fail(why);
            }
            Assumptions.abort(why);
        }
        ownerId = "test-prom-" + UUID.randomUUID().toString().substring(0, 8);
        // /metrics behind its own token, as a real Prometheus is configured to send it.
        server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key", ServerHarness.ADMIN_KEY,
                "--port", "0", "--host", "127.0.0.1", "--metrics-key", METRICS_KEY,
                "--data-dir", dataDir.toString(), "--owner-id", ownerId}, Map.of()));
        http = new ServerHarness(server.port());
    }

    @AfterEach
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (server != null) {
            server.close();
        }
        if (ownerId != null) {
            for (String id : Docker.containersOf(ownerId)) {
                Docker.run("rm", "-f", id);
            }
        }
    }

    private String create(String json) {
        ServerHarness.Reply r = http.createFunction(json);
        assertEquals(201, r.status(), r.body());
        return r.json().get("path").asText();
    }

    @Test
    void prometheusScrapesTheSameGbSecondsAndCallsAsTheUsageApi() throws Exception {
        String hot = create("{\"name\":\"hot\",\"image\":\"granda-hot-echo\",\"mode\":\"hot\",\"memoryMb\":192}");
        String run = create("{\"name\":\"run\",\"image\":\"granda/hello\",\"memoryMb\":96}");
        String failing = create("{\"name\":\"failing\",\"image\":\"granda-test-busybox\",\"memoryMb\":64,"
                + "\"env\":{\"SCRIPT\":\"echo oops >&2; exit 3\"}}");
        for (int i = 0; i < 5; i++) {
            assertEquals(200, http.call(hot + "/sleep/" + (i * 7), "hot " + i).status());
        }
        assertEquals(503, http.call(hot + "/status/503", "err").status(), "a hot 5xx is a function error");
        for (int i = 0; i < 2; i++) {
            ServerHarness.Reply r = http.call(run, "World " + i);
            assertEquals(200, r.status(), r.body());
        }
        assertEquals(502, http.call(failing, "x").status());

        // The usage API flushes the records, which the metrics hear before the read returns.
        double usageGbSeconds = 0;
        long usageCalls = 0;
        long usageFailures = 0;
        Map<String, JsonNode> usage = new java.util.TreeMap<>();
        for (String fn : List.of("hot", "run", "failing")) {
            ServerHarness.Reply r = http.get("/functions/" + fn + "/usage");
            assertEquals(200, r.status(), r.body());
            JsonNode u = r.json();
            usage.put(fn, u);
            usageGbSeconds += u.get("gbSeconds").asDouble();
            usageCalls += u.get("calls").asLong();
            usageFailures += u.get("errors").asLong() + u.get("timeouts").asLong() + u.get("outOfMemory").asLong();
        }
        assertEquals(9, usageCalls);
        assertEquals(2, usageFailures);

        int promPort = freePort();
        Path config = promDir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: granda
                    metrics_path: /metrics
                    authorization:
                      credentials: %s
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(METRICS_KEY, server.port()));
        Path log = promDir.resolve("prometheus.log");
        prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + promDir.resolve("data"), "--web.listen-address=127.0.0.1:" + promPort,
                "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ServerHarness prom = new ServerHarness(promPort);

        // Up, and scraped at least once after every call above.
        JsonNode up = waitFor(prom, log, "up{job=\"granda\"}", v -> v == 1.0);
        waitFor(prom, log, "sum(granda_invocations_total)", v -> v == 9.0);

        for (var e : usage.entrySet()) {
            double scraped = value(query(prom, "sum(granda_billed_gb_seconds_total{function=\"" + e.getKey() + "\"})"));
            double fromApi = e.getValue().get("gbSeconds").asDouble();
            System.out.printf("gbSeconds %s: prometheus %s, usage API %s%n", e.getKey(), scraped, fromApi);
            assertEquals(fromApi, scraped, "GB-seconds of " + e.getKey() + " (exactly)");
            assertEquals(e.getValue().get("calls").asDouble(),
                    value(query(prom, "sum(granda_invocations_total{function=\"" + e.getKey() + "\"})")));
            assertEquals(e.getValue().get("billedMs").asDouble() / 1000.0,
                    value(query(prom, "sum(granda_billed_seconds_total{function=\"" + e.getKey() + "\"})")), 1e-9);
        }
        double total = value(query(prom, "sum(granda_billed_gb_seconds_total)"));
        System.out.printf("gbSeconds total: prometheus %s, usage API %s%n", total, usageGbSeconds);
        assertEquals(usageGbSeconds, total, 1e-12 * Math.max(1, usageGbSeconds));
        assertTrue(total > 0);
        assertEquals(usageFailures, value(query(prom, "sum(granda_invocations_total{outcome!=\"success\"})")));
        assertEquals(1.0, value(query(prom, "sum(granda_invocations_total{function=\"failing\",outcome=\"function_error\"})")));
        assertEquals(usage.get("hot").get("coldStarts").asDouble() + usage.get("run").get("coldStarts").asDouble()
                + usage.get("failing").get("coldStarts").asDouble(), value(query(prom, "sum(granda_cold_starts_total)")));
        double p99 = value(query(prom,
                "histogram_quantile(0.99, sum by (le) (granda_invocation_duration_seconds_bucket))"));
        assertTrue(p99 > 0 && p99 <= 60, "p99 wall time from the histogram: " + p99);
        assertEquals(9.0, value(query(prom, "sum(granda_invocation_duration_seconds_count)")));
        assertTrue(value(query(prom, "sum(granda_instances)")) >= 1, "the hot instance is counted");
        assertTrue(value(query(prom, "sum(jvm_memory_used_bytes{area=\"heap\"})")) > 0);
        assertTrue(up.toString().contains("granda"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** @return the result vector of an instant query */
    private static JsonNode query(ServerHarness prom, String promql) {
        ServerHarness.Reply r = prom.get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        assertEquals(200, r.status(), promql + ": " + r.body());
        JsonNode body = r.json();
        assertEquals("success", body.get("status").asText(), r.body());
        return body.get("data").get("result");
    }

    /** @return the single value of a one-element vector */
    private static double value(JsonNode vector) {
        assertEquals(1, vector.size(), "one series expected: " + vector);
        return Double.parseDouble(vector.get(0).get("value").get(1).asText());
    }

    /** Polls a query until its single value satisfies the condition; fails with Prometheus's log after 60 s. */
    private JsonNode waitFor(ServerHarness prom, Path log, String promql, Predicate<Double> ok) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!prometheus.isAlive()) {
                fail("prometheus exited with " + prometheus.exitValue() + ": " + Files.readString(log));
            }
            try {
                JsonNode v = query(prom, promql);
                last = v.toString();
                if (v.size() == 1 && ok.test(Double.parseDouble(v.get(0).get("value").get(1).asText()))) {
                    return v;
                }
            } catch (RuntimeException | AssertionError notYet) {
                last = String.valueOf(notYet.getMessage());
            }
            Thread.sleep(200);
        }
        String targets;
        try {
            targets = prom.get("/api/v1/targets").body();
        } catch (RuntimeException e) {
            targets = e.toString();
        }
        return fail("not within 60 s: " + promql + " (last: " + last + "); targets: " + targets + "; log: "
                + Files.readString(log));
    }
}
