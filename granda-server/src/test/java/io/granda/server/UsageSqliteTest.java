package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.Granda;
import io.granda.core.GrandaOptions;
import io.granda.core.InvocationRequest;
import io.granda.core.MeteringOptions;
import io.granda.core.Prices;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import io.granda.http.GrandaHttp;
import io.granda.http.GrandaHttpConfig;
import io.granda.store.SqliteStore;
import io.granda.store.SqliteStoreConfig;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import io.helidon.webserver.WebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The usage API over the SQLite store (no Docker: a fake backend and a fake clock): series from its aggregates agree
 * with the exact totals from its records, the CSV export streams its records, and purging past the record retention
 * empties the export but keeps the series, across a restart.
 */
class UsageSqliteTest {

    private static final Prices ROUND = new Prices(new BigDecimal("2000000"), new BigDecimal("0.5"), "EUR");
    private static final String WINDOW = "since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z";

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock(Instant.parse("2026-03-10T00:00:00Z"));

    private RunOnceResult behave(RunOnceRequest r) {
        clock.advance(Duration.ofSeconds(1));
        boolean fail = new String(r.payload(), StandardCharsets.UTF_8).equals("error");
        return new RunOnceResult(RunOnceResult.Termination.EXITED, fail ? 1 : 0, r.payload(), false, "",
                Duration.ZERO, Duration.ofMillis(3), Duration.ofMillis(1000), 125_000);
    }

    /** A Granda over the store in the temp dir, behind a web server, until closed. */
    private final class Running implements AutoCloseable {
        final SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(dir.resolve("granda.db")), clock);
        final Granda granda = Granda.builder().backend(new FakeBackend().withBehaviour(UsageSqliteTest.this::behave))
                .registry(store.functions()).meteringStore(store.metering()).apiKeyStore(store.apiKeys()).clock(clock)
                .options(GrandaOptions.DEFAULTS.withMetering(MeteringOptions.DEFAULTS.withPrices(ROUND))).build();
        final WebServer server = WebServer.builder().host("127.0.0.1").port(0).shutdownHook(false)
                .routing(r -> GrandaHttp.notFoundFallback(GrandaHttp.mount(r, granda, GrandaHttpConfig.DEFAULTS)))
                .build().start();
        final ServerHarness http = new ServerHarness(server.port());

        Running() {
            granda.apiKeys().configure(ServerHarness.ADMIN_KEY, io.granda.core.access.Tenant.DEFAULT,
                    io.granda.core.access.Role.ADMIN, "tests");
        }

        JsonNode json(String path) {
            ServerHarness.Reply r = http.get(path);
            assertEquals(200, r.status(), path + ": " + r.body());
            return r.json();
        }

        List<String> csvLines(String query) {
            ServerHarness.Reply r = http.get("/usage/records.csv?" + query);
            assertEquals(200, r.status(), r.body());
            assertEquals("text/csv; charset=utf-8", r.header("Content-Type"));
            return new ArrayList<>(List.of(r.body().split("\r\n")));
        }

        @Override
        public void close() {
            server.stop();
            granda.close();
            store.close();
        }
    }

    private void callAt(Granda granda, String at, String how) {
        clock.set(Instant.parse(at));
        granda.invoke("fn", InvocationRequest.of(how));
    }

    @Test
    void seriesOutliveTheRecordsTheyWereMadeFrom() {
        try (Running g = new Running()) {
            assertEquals(201, g.http.createFunction("{\"name\":\"fn\",\"image\":\"granda/hello\",\"memoryMb\":1024}")
                    .status());
            callAt(g.granda, "2026-03-10T10:00:05Z", "ok");
            callAt(g.granda, "2026-03-10T10:00:45Z", "error");
            callAt(g.granda, "2026-03-10T13:59:59Z", "ok");

            JsonNode u = g.json("/functions/fn/usage?" + WINDOW + "&granularity=hour");
            assertEquals(3, u.get("calls").asLong());
            assertEquals(1, u.get("errors").asLong());
            assertEquals(0.375, u.get("cpuSeconds").asDouble());
            assertEquals("7.5000000000", u.get("cost").get("total").asText());
            assertEquals(24, u.get("series").size());
            assertEquals(2, u.get("series").get(10).get("calls").asLong());
            assertEquals(1, u.get("series").get(10).get("errors").asLong());
            assertEquals(1, u.get("series").get(13).get("calls").asLong());
            assertEquals("5.0000000000", u.get("series").get(10).get("cost").get("total").asText());
            JsonNode all = g.json("/usage?" + WINDOW);
            assertEquals(3, all.get("calls").asLong());
            assertEquals(u.get("cost"), all.get("cost"));

            List<String> csv = g.csvLines(WINDOW);
            assertEquals(4, csv.size());
            JsonNode newest = g.json("/functions/fn/invocations?limit=1").get("items").get(0);
            String[] last = csv.get(3).split(",", -1);
            assertEquals(newest.get("invocationId").asText(), last[0]);
            assertEquals(newest.get("start").asText(), last[5]);
            assertEquals("1000.000", last[11]);
            assertEquals("1", last[14]);
            assertEquals("125.000", last[15]);

            clock.set(Instant.parse("2026-06-10T00:00:00Z")); // 92 days on
            assertEquals(3, g.granda.purgeExpiredMetering().records());
            assertEquals(1, g.csvLines(WINDOW).size(), "the header only");
        }
        try (Running g = new Running()) {
            JsonNode u = g.json("/functions/fn/usage?" + WINDOW + "&granularity=day");
            assertEquals(0, u.get("calls").asLong(), "no records left");
            assertEquals(3, u.get("series").get(0).get("calls").asLong(), "the aggregates stay");
            assertEquals("7.5000000000", u.get("series").get(0).get("cost").get("total").asText());
            assertEquals(3, g.json("/usage?" + WINDOW).get("calls").asLong());
            assertEquals(0, g.json("/functions/fn/invocations").get("items").size());
        }
    }
}
