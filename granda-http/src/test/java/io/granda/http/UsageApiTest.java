package io.granda.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.granda.core.FunctionUsage;
import io.granda.core.Granda;
import io.granda.core.GrandaOptions;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationRequest;
import io.granda.core.MeteringOptions;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.Prices;
import io.granda.core.RecordFilter;
import io.granda.core.StoreException;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.core.memory.InMemoryMeteringStore;
import io.granda.core.spi.MeteringStore;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import io.granda.http.internal.RecordsCsv;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The usage API ({@code /functions/{name}/usage}, {@code /usage}, {@code /usage/records.csv}) against a real Helidon
 * server, with a fake backend and a fake clock, so that calls land exactly where a test puts them.
 */
class UsageApiTest {

    /** 2 per call and 0.5 per GB-second: a 1 GiB function billed 1 s costs exactly 2.5. */
    private static final Prices ROUND = new Prices(new BigDecimal("2000000"), new BigDecimal("0.5"), "EUR");
    private static final Instant DAY = Instant.parse("2026-03-10T00:00:00Z");

    private final FakeClock clock = new FakeClock(DAY);
    private FakeBackend backend;
    private HttpTestServer http;

    @AfterEach
    void stop() {
        if (http != null) {
            http.close();
        }
    }

    /** Every call runs 1 s of the fake clock, uses 250 ms of CPU and ends as its payload says. */
    private RunOnceResult behave(RunOnceRequest r) {
        clock.advance(Duration.ofSeconds(1));
        String how = new String(r.payload(), StandardCharsets.UTF_8);
        RunOnceResult.Termination t = switch (how) {
            case "timeout" -> RunOnceResult.Termination.TIMED_OUT;
            case "oom" -> RunOnceResult.Termination.OUT_OF_MEMORY;
            default -> RunOnceResult.Termination.EXITED;
        };
        int exit = switch (how) {
            case "error" -> 3;
            case "oom" -> 137;
            case "timeout" -> -1;
            default -> 0;
        };
        return new RunOnceResult(t, exit, r.payload(), false, "", Duration.ZERO, Duration.ofMillis(2),
                Duration.ofMillis(1000), 250_000);
    }

    private void start(Prices prices, MeteringStore store) {
        backend = new FakeBackend().withBehaviour(this::behave);
        Granda granda = Granda.builder().backend(backend).clock(clock).meteringStore(store)
                .options(GrandaOptions.DEFAULTS.withMetering(MeteringOptions.DEFAULTS.withPrices(prices)))
                .build();
        http = new HttpTestServer(granda, GrandaHttpConfig.DEFAULTS);
    }

    private void start(Prices prices) {
        start(prices, new InMemoryMeteringStore());
    }

    private void create(String name, int memoryMb) {
        HttpTestServer.Reply r = http.json("POST", "/functions",
                "{\"name\":\"" + name + "\",\"image\":\"granda/hello\",\"memoryMb\":" + memoryMb + "}");
        assertEquals(201, r.status(), r.text());
    }

    /** Calls a function at an instant; the payload says how the call ends. */
    private void callAt(String name, String at, String how) {
        clock.set(Instant.parse(at));
        http.granda.invoke(name, InvocationRequest.of(how));
    }

    /** Seven calls of {@code fn} (1 GiB): four in the 10:00 hour, two in the 11:00 hour, one the next day. */
    private void sevenCalls() {
        create("fn", 1024);
        callAt("fn", "2026-03-10T10:00:05Z", "ok");
        callAt("fn", "2026-03-10T10:00:50Z", "error");
        callAt("fn", "2026-03-10T10:01:10Z", "ok");
        callAt("fn", "2026-03-10T10:59:59Z", "timeout");
        callAt("fn", "2026-03-10T11:00:00Z", "ok");
        callAt("fn", "2026-03-10T11:30:00Z", "oom");
        callAt("fn", "2026-03-11T00:00:30Z", "ok");
    }

    private JsonNode getJson(String path) {
        HttpTestServer.Reply r = http.get(path);
        assertEquals(200, r.status(), path + ": " + r.text());
        return r.json();
    }

    private static final List<String> COUNTS = List.of("calls", "errors", "timeouts", "outOfMemory", "coldStarts",
            "computeMs", "billedMs");

    /** Adds up the counts, GB-seconds and CPU seconds of a series' buckets. */
    private static Map<String, Double> sum(JsonNode series) {
        Map<String, Double> out = new HashMap<>();
        for (JsonNode b : series) {
            for (String f : COUNTS) {
                out.merge(f, b.get(f).asDouble(), Double::sum);
            }
            out.merge("gbSeconds", b.get("gbSeconds").asDouble(), Double::sum);
            out.merge("cpuSeconds", b.get("cpuSeconds").asDouble(), Double::sum);
        }
        return out;
    }

    private static void assertTotalsEqual(JsonNode expected, JsonNode actual) {
        for (String f : COUNTS) {
            assertEquals(expected.get(f).asLong(), actual.get(f).asLong(), f);
        }
        assertEquals(expected.get("gbSeconds").asDouble(), actual.get("gbSeconds").asDouble(), 1e-9, "gbSeconds");
        assertEquals(expected.get("cpuSeconds").asDouble(), actual.get("cpuSeconds").asDouble(), 1e-9, "cpuSeconds");
        assertEquals(expected.get("cost"), actual.get("cost"), "cost");
    }

    @Test
    void seriesAgreeWithTheExactUsageAndCostFollowsThePrices() {
        start(ROUND);
        sevenCalls();

        JsonNode u = getJson("/functions/fn/usage?since=2026-03-10T00:00:00Z&until=2026-03-12T00:00:00Z"
                + "&granularity=hour");
        assertEquals("fn", u.get("function").asText());
        assertEquals(7, u.get("calls").asLong());
        assertEquals(1, u.get("errors").asLong());
        assertEquals(1, u.get("timeouts").asLong());
        assertEquals(1, u.get("outOfMemory").asLong());
        assertEquals(7, u.get("coldStarts").asLong());
        assertEquals(7000, u.get("billedMs").asLong());
        assertEquals(7.0, u.get("gbSeconds").asDouble());
        assertEquals(1.75, u.get("cpuSeconds").asDouble());
        // 7 calls at 2 each, 7 GB-seconds at 0.5 each: exact decimals, as strings.
        assertEquals("14.0000000000", u.get("cost").get("requests").asText());
        assertEquals("3.5000000000", u.get("cost").get("compute").asText());
        assertEquals("17.5000000000", u.get("cost").get("total").asText());
        assertEquals("EUR", u.get("cost").get("currency").asText());
        assertEquals("2000000", u.get("prices").get("perMillionRequests").asText());
        assertEquals("0.5", u.get("prices").get("perGbSecond").asText());

        assertEquals("hour", u.get("granularity").asText());
        assertEquals("2026-03-10T00:00:00Z", u.get("seriesSince").asText());
        assertEquals("2026-03-12T00:00:00Z", u.get("seriesUntil").asText());
        JsonNode series = u.get("series");
        assertEquals(48, series.size(), "every hour of the window, empty ones too");
        assertEquals("2026-03-10T00:00:00Z", series.get(0).get("start").asText());
        assertEquals("2026-03-11T23:00:00Z", series.get(47).get("start").asText());
        assertEquals(4, series.get(10).get("calls").asLong());
        assertEquals(2, series.get(11).get("calls").asLong());
        assertEquals(1, series.get(24).get("calls").asLong());
        assertEquals("10.0000000000", series.get(10).get("cost").get("total").asText());
        assertEquals("0.0000000000", series.get(0).get("cost").get("total").asText());
        Map<String, Double> summed = sum(series);
        for (String f : COUNTS) {
            assertEquals(u.get(f).asDouble(), summed.get(f), f);
        }
        assertEquals(u.get("gbSeconds").asDouble(), summed.get("gbSeconds"), 1e-9);
        assertEquals(u.get("cpuSeconds").asDouble(), summed.get("cpuSeconds"), 1e-9);

        // Each bucket equals the exact usage (from raw records) of its hour.
        for (JsonNode b : series) {
            Instant start = Instant.parse(b.get("start").asText());
            JsonNode exact = getJson("/functions/fn/usage?since=" + start + "&until=" + start.plus(Duration.ofHours(1)));
            assertTotalsEqual(exact, b);
        }

        // Minutes and days cut the same calls differently and still add up.
        JsonNode minutes = getJson("/functions/fn/usage?since=2026-03-10T10:00:00Z&until=2026-03-10T11:00:00Z"
                + "&granularity=minute");
        assertEquals(60, minutes.get("series").size());
        assertEquals(4, minutes.get("calls").asLong());
        assertEquals(2, minutes.get("series").get(0).get("calls").asLong());
        assertEquals(1, minutes.get("series").get(1).get("calls").asLong());
        assertEquals(1, minutes.get("series").get(59).get("calls").asLong());
        assertEquals(4.0, sum(minutes.get("series")).get("calls"));
        JsonNode days = getJson("/functions/fn/usage?since=2026-03-10T00:00:00Z&until=2026-03-12T00:00:00Z"
                + "&granularity=DAY");
        assertEquals(2, days.get("series").size());
        assertEquals(6, days.get("series").get(0).get("calls").asLong());
        assertEquals(1, days.get("series").get(1).get("calls").asLong());
    }

    @Test
    void anUnalignedWindowIsExactForTotalsAndWidenedForTheSeries() {
        start(ROUND);
        sevenCalls();
        JsonNode u = getJson("/functions/fn/usage?since=2026-03-10T10:00:30Z&until=2026-03-10T11:15:00Z"
                + "&granularity=hour");
        assertEquals("2026-03-10T10:00:30Z", u.get("since").asText());
        assertEquals("2026-03-10T11:15:00Z", u.get("until").asText());
        assertEquals(4, u.get("calls").asLong(), "10:00:50, 10:01:10, 10:59:59 and 11:00:00");
        assertEquals("2026-03-10T10:00:00Z", u.get("seriesSince").asText());
        assertEquals("2026-03-10T12:00:00Z", u.get("seriesUntil").asText());
        assertEquals(2, u.get("series").size());
        assertEquals(6.0, sum(u.get("series")).get("calls"), "the whole of both hours");

        // Without a granularity there is no series at all.
        JsonNode plain = getJson("/functions/fn/usage?since=2026-03-10T10:00:30Z&until=2026-03-10T11:15:00Z");
        assertNull(plain.get("series"));
        assertNull(plain.get("granularity"));
        assertEquals(4, plain.get("calls").asLong());
    }

    @Test
    void defaultPricesAreRoundedHalfEvenToTenPlaces() {
        start(Prices.DEFAULTS);
        create("small", 128);
        callAt("small", "2026-03-10T10:00:00Z", "ok");
        JsonNode cost = getJson("/functions/small/usage").get("cost");
        // 0.20 / 1e6 per call; 0.0000166667 x 0.125 GB x 1 s = 0.00000208333750 -> 0.0000020833.
        assertEquals("0.0000002000", cost.get("requests").asText());
        assertEquals("0.0000020833", cost.get("compute").asText());
        assertEquals("0.0000022833", cost.get("total").asText());
        assertEquals("USD", cost.get("currency").asText());
    }

    @Test
    void usageCoversEveryFunctionOfTheWindowDeletedOnesIncluded() {
        start(ROUND);
        sevenCalls();
        create("other", 512);
        callAt("other", "2026-03-10T10:30:00Z", "ok");
        create("gone", 2048);
        callAt("gone", "2026-03-10T10:45:00Z", "ok");
        assertEquals(204, http.send("DELETE", "/functions/gone", null, null).status());

        JsonNode u = getJson("/usage?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z");
        assertTrue(u.get("tenant").isNull(), "every tenant");
        assertEquals("2026-03-10T00:00:00Z", u.get("since").asText());
        assertEquals("2026-03-11T00:00:00Z", u.get("until").asText());
        assertEquals(8, u.get("calls").asLong());
        // fn: 6 GB-s, other: 0.5, gone: 2 -> 8.5 GB-s; 8 calls.
        assertEquals(8.5, u.get("gbSeconds").asDouble());
        assertEquals("16.0000000000", u.get("cost").get("requests").asText());
        assertEquals("4.2500000000", u.get("cost").get("compute").asText());
        assertEquals("20.2500000000", u.get("cost").get("total").asText());
        JsonNode fns = u.get("functions");
        assertEquals(3, fns.size());
        assertEquals(List.of("fn", "gone", "other"), List.of(fns.get(0).get("name").asText(),
                fns.get(1).get("name").asText(), fns.get(2).get("name").asText()));
        assertFalse(fns.get(0).get("deleted").asBoolean());
        assertTrue(fns.get(1).get("deleted").asBoolean());
        assertEquals("default", fns.get(1).get("tenant").asText());
        assertEquals(1, fns.get(1).get("calls").asLong());
        assertEquals("3.0000000000", fns.get(1).get("cost").get("total").asText());
        assertEquals(http.granda.function("fn").orElseThrow().id(), fns.get(0).get("id").asText());
        assertEquals(6, fns.get(0).get("calls").asLong());
        assertNull(u.get("series"));

        // The totals are the functions' sum, and each function's equals its exact usage (the window is whole).
        assertTotalsEqual(getJson("/functions/fn/usage?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z"),
                fns.get(0));

        // Named tenants.
        JsonNode mine = getJson("/usage?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z&tenant=default");
        assertEquals("default", mine.get("tenant").asText());
        assertEquals(8, mine.get("calls").asLong());
        JsonNode nobody = getJson("/usage?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z&tenant=acme");
        assertEquals(0, nobody.get("calls").asLong());
        assertEquals(0, nobody.get("functions").size());
        assertEquals("0.0000000000", nobody.get("cost").get("total").asText());

        // A series over all functions; the window is widened to whole buckets and the totals cover it.
        JsonNode hourly = getJson("/usage?since=2026-03-10T10:20:00Z&until=2026-03-10T11:10:00Z&granularity=hour");
        assertEquals("2026-03-10T10:00:00Z", hourly.get("since").asText());
        assertEquals("2026-03-10T12:00:00Z", hourly.get("until").asText());
        assertEquals(hourly.get("since"), hourly.get("seriesSince"));
        assertEquals(hourly.get("until"), hourly.get("seriesUntil"));
        assertEquals(2, hourly.get("series").size());
        assertEquals(6, hourly.get("series").get(0).get("calls").asLong());
        assertEquals(2, hourly.get("series").get(1).get("calls").asLong());
        assertEquals(8, hourly.get("calls").asLong());

        // Without a granularity the window is widened to whole minutes only.
        JsonNode minutes = getJson("/usage?since=2026-03-10T10:00:40Z&until=2026-03-10T10:01:10Z");
        assertEquals("2026-03-10T10:00:00Z", minutes.get("since").asText());
        assertEquals("2026-03-10T10:02:00Z", minutes.get("until").asText());
        assertEquals(3, minutes.get("calls").asLong());
    }

    /** A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF line ends. */
    static List<List<String>> parseCsv(String text) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
                i++;
            } else {
                field.append(c);
            }
        }
        assertTrue(field.isEmpty() && row.isEmpty(), "the CSV ends with a line end");
        return rows;
    }

    @Test
    void theCsvExportParsesBackAndMatchesTheInvocations() {
        start(ROUND);
        sevenCalls();
        HttpTestServer.Reply r = http.get("/usage/records.csv?since=2026-03-10T00:00:00Z&until=2026-03-12T00:00:00Z");
        assertEquals(200, r.status(), r.text());
        assertEquals("text/csv; charset=utf-8", r.header("Content-Type"));
        assertEquals("attachment; filename=\"granda-usage-20260310T000000Z-20260312T000000Z.csv\"",
                r.header("Content-Disposition"));
        List<List<String>> rows = parseCsv(r.text());
        assertEquals(RecordsCsv.COLUMNS, rows.getFirst());
        assertEquals(8, rows.size(), "header and one row per call");

        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode item : getJson("/functions/fn/invocations").get("items")) {
            byId.put(item.get("invocationId").asText(), item);
        }
        assertEquals(7, byId.size());
        String previousStart = "";
        for (List<String> row : rows.subList(1, rows.size())) {
            Map<String, String> v = new HashMap<>();
            for (int i = 0; i < row.size(); i++) {
                v.put(RecordsCsv.COLUMNS.get(i), row.get(i));
            }
            assertEquals(RecordsCsv.COLUMNS.size(), row.size());
            JsonNode inv = byId.get(v.get("invocation_id"));
            assertEquals("default", v.get("tenant"));
            assertEquals(http.granda.function("fn").orElseThrow().id(), v.get("function_id"));
            assertEquals(inv.get("function").asText(), v.get("function_name"));
            assertEquals(inv.get("revision").asText(), v.get("revision"));
            assertEquals(inv.get("start").asText(), v.get("start"));
            assertEquals(inv.get("end").asText(), v.get("end"));
            assertTrue(v.get("start").compareTo(previousStart) > 0, "oldest first");
            previousStart = v.get("start");
            assertEquals(inv.get("outcome").asText(), v.get("outcome"));
            assertEquals(inv.get("exitCode").isNull() ? "" : inv.get("exitCode").asText(), v.get("exit_code"));
            assertEquals(inv.get("cold").asText(), v.get("cold"));
            assertEquals(inv.get("queueMs").asDouble(), Double.parseDouble(v.get("queue_ms")));
            assertEquals(inv.get("startMs").asDouble(), Double.parseDouble(v.get("start_ms")));
            assertEquals(inv.get("runMs").asDouble(), Double.parseDouble(v.get("run_ms")));
            assertEquals("1000.000", v.get("run_ms"));
            assertEquals("2.000", v.get("start_ms"));
            assertEquals(inv.get("billedMs").asText(), v.get("billed_ms"));
            assertEquals(inv.get("memoryMb").asText(), v.get("memory_mb"));
            assertEquals("1", v.get("gb_seconds"));
            assertEquals("250.000", v.get("cpu_ms"));
            assertEquals(inv.get("requestBytes").asText(), v.get("request_bytes"));
            assertEquals(inv.get("responseBytes").asText(), v.get("response_bytes"));
        }

        // A window, a function and a tenant narrow it; an empty export still has its header.
        assertEquals(1 + 5, parseCsv(http.get("/usage/records.csv?since=2026-03-10T10:00:30Z&until=2026-03-10T11:30:01Z"
                + "&function=fn").text()).size());
        assertEquals(1, parseCsv(http.get("/usage/records.csv?since=2026-03-10T00:00:00Z&until=2026-03-12T00:00:00Z"
                + "&tenant=acme").text()).size());
        create("quiet", 128);
        HttpTestServer.Reply none = http.get("/usage/records.csv?function=quiet");
        assertEquals(200, none.status());
        assertEquals(List.of(RecordsCsv.COLUMNS), parseCsv(none.text()));
    }

    private static InvocationRecord record(int i) {
        Instant start = DAY.plusMillis(i * 10L);
        return new InvocationRecord("inv-" + i, "default", "fid-" + (i % 3), "name-" + (i % 3), 1, start,
                start.plusMillis(5), InvocationRecord.PhaseMicros.runOnly(4_321), 128, i, Outcome.SUCCESS, 0,
                i % 2 == 0, 10, 20);
    }

    @Test
    void aLargeExportIsStreamedInChunks() {
        InMemoryMeteringStore store = new InMemoryMeteringStore();
        List<InvocationRecord> records = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            records.add(record(i));
        }
        store.append(records);
        start(ROUND, store);
        HttpTestServer.Reply r = http.get("/usage/records.csv?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z");
        assertEquals(200, r.status());
        assertTrue(r.body().length > 4 * 64 * 1024, "several chunks: " + r.body().length);
        assertNull(r.header("Content-Length"), "streamed, not buffered whole");
        List<List<String>> rows = parseCsv(r.text());
        assertEquals(3001, rows.size());
        for (int i = 0; i < 3000; i++) {
            assertEquals("inv-" + i, rows.get(i + 1).get(0));
            assertEquals("4.321", rows.get(i + 1).get(RecordsCsv.COLUMNS.indexOf("run_ms")));
        }
    }

    /** A store whose export fails after passing a number of records. */
    private static final class FailingExport implements MeteringStore {
        private final InMemoryMeteringStore delegate = new InMemoryMeteringStore();
        private final int failAfter;

        FailingExport(int failAfter) {
            this.failAfter = failAfter;
        }

        @Override
        public long exportRecords(RecordFilter filter, Consumer<InvocationRecord> sink) {
            AtomicInteger passed = new AtomicInteger();
            return delegate.exportRecords(filter, r -> {
                if (passed.getAndIncrement() == failAfter) {
                    throw new StoreException("disk on fire");
                }
                sink.accept(r);
            });
        }

        @Override
        public List<InvocationRecord> append(List<InvocationRecord> records) {
            return delegate.append(records);
        }

        @Override
        public Optional<InvocationRecord> find(String invocationId) {
            return delegate.find(invocationId);
        }

        @Override
        public Page<InvocationRecord> invocations(String functionId, int limit, String cursor) {
            return delegate.invocations(functionId, limit, cursor);
        }

        @Override
        public UsageSummary usage(String functionId, Instant since, Instant until) {
            return delegate.usage(functionId, since, until);
        }

        @Override
        public List<UsageBucket> usageSeries(RecordFilter filter, Granularity granularity) {
            return delegate.usageSeries(filter, granularity);
        }

        @Override
        public List<FunctionUsage> usageByFunction(RecordFilter filter) {
            return delegate.usageByFunction(filter);
        }

        @Override
        public long purgeRecordsBefore(Instant cutoff) {
            return delegate.purgeRecordsBefore(cutoff);
        }

        @Override
        public long purgeAggregatesBefore(Instant cutoff) {
            return delegate.purgeAggregatesBefore(cutoff);
        }
    }

    private void startFailingAfter(int records) {
        FailingExport store = new FailingExport(records);
        List<InvocationRecord> batch = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            batch.add(record(i));
        }
        store.append(batch);
        start(ROUND, store);
    }

    @Test
    void anExportFailingBeforeAnyOutputIsAJsonError() {
        startFailingAfter(10);
        HttpTestServer.Reply r = http.get("/usage/records.csv?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z");
        assertEquals(503, r.status(), r.text());
        assertEquals("store_unavailable", r.json().get("error").asText());
    }

    @Test
    void anExportFailingPartWayBreaksTheTransferInsteadOfEndingIt() {
        startFailingAfter(1500); // several chunks are out by then
        assertThrows(UncheckedIOException.class,
                () -> http.get("/usage/records.csv?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z"));
        // The server is fine afterwards.
        assertEquals(200, http.get("/usage?since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z").status());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', textBlock = """
            GET  | /usage?granularity=week                                                          | 400 | invalid_request    | granularity
            GET  | /usage?granularity=minute&since=2026-01-01T00:00:00Z&until=2026-01-08T00:00:00Z  | 400 | invalid_request    | granularity
            GET  | /usage?granularity=minute&since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z  | 400 | invalid_request    | granularity
            GET  | /usage?since=2026-03-11T00:00:00Z&until=2026-03-10T00:00:00Z                     | 400 | invalid_request    | since
            GET  | /usage?since=2026-03-10T00:00:00Z&until=2026-03-10T00:00:00Z                     | 400 | invalid_request    | since
            GET  | /usage?since=yesterday                                                           | 400 | invalid_request    | since
            GET  | /usage?until=tomorrow                                                            | 400 | invalid_request    | until
            GET  | /usage?since=PT2000000000000000H                                                 | 400 | invalid_request    | since
            GET  | /usage?tenant=                                                                   | 400 | invalid_request    | tenant
            GET  | /functions/fn/usage?granularity=fortnight                                        | 400 | invalid_request    | granularity
            GET  | /functions/fn/usage?granularity=minute&since=7d                                  | 400 | invalid_request    | granularity
            GET  | /functions/fn/usage?since=2026-03-11T00:00:00Z&until=2026-03-10T00:00:00Z        | 400 | invalid_request    | since
            GET  | /functions/nobody/usage                                                          | 404 | function_not_found |
            GET  | /functions/nobody/usage?granularity=hour                                         | 404 | function_not_found |
            GET  | /usage/records.csv?since=2025-01-01T00:00:00Z&until=2026-01-03T00:00:00Z         | 400 | invalid_request    | since
            GET  | /usage/records.csv?since=2026-03-11T00:00:00Z&until=2026-03-10T00:00:00Z         | 400 | invalid_request    | since
            GET  | /usage/records.csv?since=soon                                                    | 400 | invalid_request    | since
            GET  | /usage/records.csv?function=nobody                                               | 404 | function_not_found |
            GET  | /usage/records.csv?tenant=%20x                                                   | 400 | invalid_request    | tenant
            POST | /usage                                                                           | 405 | method_not_allowed |
            POST | /usage/records.csv                                                               | 405 | method_not_allowed |
            DELETE | /functions/fn/usage                                                            | 405 | method_not_allowed |
            """)
    void badInputIsAJsonErrorAndChangesNothing(String method, String path, int status, String code, String field) {
        start(ROUND);
        sevenCalls();
        String before = http.get("/usage/records.csv?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z").text();
        JsonNode usageBefore = getJson("/usage?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z");

        HttpTestServer.Reply r = http.send(method, path, null, null);
        assertEquals(status, r.status(), r.text());
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
        assertEquals(code, r.json().get("error").asText());
        if (field != null) {
            assertEquals(field, r.json().get("field").asText(), r.text());
        }

        assertEquals(before, http.get("/usage/records.csv?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z").text());
        assertEquals(usageBefore, getJson("/usage?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z"));
        assertEquals(7, backend.runCalls());
    }

    @Test
    void purgingRemovesRawRecordsButKeepsTheSeriesUntilTheAggregatesExpire() {
        start(ROUND);
        create("fn", 1024);
        callAt("fn", "2026-03-10T10:00:05Z", "ok");
        callAt("fn", "2026-03-10T10:20:00Z", "error");
        String window = "since=2026-03-10T00:00:00Z&until=2026-03-11T00:00:00Z";
        assertEquals(3, parseCsv(http.get("/usage/records.csv?" + window).text()).size());

        // Past the record retention (90 days): records go, aggregates stay.
        clock.set(Instant.parse("2026-03-10T10:30:00Z").plus(Duration.ofDays(91)));
        Granda.PurgeReport purged = http.granda.purgeExpiredMetering();
        assertEquals(2, purged.records());
        assertEquals(0, purged.aggregates());
        assertEquals(List.of(RecordsCsv.COLUMNS), parseCsv(http.get("/usage/records.csv?" + window).text()));
        assertEquals(0, getJson("/functions/fn/invocations").get("items").size());
        JsonNode fn = getJson("/functions/fn/usage?" + window + "&granularity=day");
        assertEquals(0, fn.get("calls").asLong(), "exact totals come from the raw records");
        assertEquals(2, fn.get("series").get(0).get("calls").asLong(), "the series from the aggregates");
        assertEquals(1, fn.get("series").get(0).get("errors").asLong());
        assertEquals("5.0000000000", fn.get("series").get(0).get("cost").get("total").asText());
        JsonNode all = getJson("/usage?" + window);
        assertEquals(2, all.get("calls").asLong());
        assertEquals(1, all.get("functions").size());

        // Past the aggregate retention (400 days): the series is empty too.
        clock.set(Instant.parse("2026-03-10T10:30:00Z").plus(Duration.ofDays(401)));
        assertEquals(2, http.granda.purgeExpiredMetering().aggregates(), "one row per minute with calls");
        assertEquals(0, getJson("/functions/fn/usage?" + window + "&granularity=day").get("series").get(0)
                .get("calls").asLong());
        assertEquals(0, getJson("/usage?" + window).get("calls").asLong());
    }
}
