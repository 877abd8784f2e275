package io.granda.core;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The invariants the domain records guard themselves. */
class RecordInvariantsTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    // ---- DeployedFunction ---------------------------------------------------------------------------------------

    private static FunctionSpec spec(String name) {
        return FunctionSpec.builder(name).image("granda/hello").build();
    }

    @Test
    void aDeployedFunctionMustCarryItsSpecsName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DeployedFunction("id1", "hello", 1, "hello-r", spec("other"), T0, T0));
        assertTrue(e.getMessage().contains("other"), e.getMessage());
        assertEquals("hello", new DeployedFunction("id1", "hello", 1, "hello-r", spec("hello"), T0, T0).name());
    }

    @Test
    void aDeployedFunctionStartsAtRevisionOne() {
        assertThrows(IllegalArgumentException.class,
                () -> new DeployedFunction("id1", "hello", 0, "hello-r", spec("hello"), T0, T0));
        assertThrows(IllegalArgumentException.class,
                () -> new DeployedFunction("id1", "hello", -1, "hello-r", spec("hello"), T0, T0));
    }

    @Test
    void aDeployedFunctionRefusesNulls() {
        assertThrows(NullPointerException.class,
                () -> new DeployedFunction(null, "hello", 1, "hello-r", spec("hello"), T0, T0));
        assertThrows(NullPointerException.class,
                () -> new DeployedFunction("id1", "hello", 1, null, spec("hello"), T0, T0));
        assertThrows(NullPointerException.class,
                () -> new DeployedFunction("id1", "hello", 1, "hello-r", null, T0, T0));
        assertThrows(NullPointerException.class,
                () -> new DeployedFunction("id1", "hello", 1, "hello-r", spec("hello"), T0, null));
    }

    // ---- FunctionSpec -------------------------------------------------------------------------------------------

    @Test
    void aSpecFillsDefaultsAndKeepsEnvOrder() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("Z", "1");
        env.put("A", "2");
        FunctionSpec spec = new FunctionSpec("f", null, null, null, null, 0, env, null, null);
        assertEquals("", spec.description());
        assertEquals("", spec.image());
        assertEquals(ExecutionMode.RUN, spec.mode());
        assertEquals(FunctionSpec.DEFAULT_TIMEOUT, spec.timeout());
        assertEquals(ScalingPolicy.DEFAULT, spec.scaling());
        assertEquals(FunctionSpec.DEFAULT_MEMORY_MB, spec.memoryMb());
        assertEquals(List.of("Z", "A"), List.copyOf(spec.env().keySet()));
        env.put("LATER", "x");
        assertFalse(spec.env().containsKey("LATER"), "the spec keeps a copy");
        assertThrows(UnsupportedOperationException.class, () -> spec.env().put("B", "3"));
        assertEquals(spec, spec.toBuilder().build());
    }

    // ---- InvocationRecord ---------------------------------------------------------------------------------------

    private static InvocationRecord record(Instant start, Instant end, long queue, long init, long run, int memoryMb) {
        return new InvocationRecord("inv1", InvocationRecord.DEFAULT_TENANT, "fid", "hello", 1, start, end, new InvocationRecord.PhaseMicros(queue, 0, 0, init, run), memoryMb, -1, Outcome.SUCCESS, 0, true, 10, 20);
    }

    @Test
    void aRecordRefusesNegativeDurations() {
        assertThrows(IllegalArgumentException.class, () -> record(T0, T0, -1, 0, 0, 128));
        assertThrows(IllegalArgumentException.class, () -> record(T0, T0, 0, -1, 0, 128));
        assertThrows(IllegalArgumentException.class, () -> record(T0, T0, 0, 0, -1, 128));
    }

    @Test
    void aRecordRefusesAnEndBeforeItsStart() {
        // A negative wall time would be subtracted from every usage total that sums it.
        assertThrows(IllegalArgumentException.class, () -> record(T0, T0.minusNanos(1), 0, 0, 0, 128));
        assertEquals(0, record(T0, T0, 0, 0, 0, 128).durationMillis());
    }

    @Test
    void aRecordRefusesNonPositiveMemory() {
        assertThrows(IllegalArgumentException.class, () -> record(T0, T0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> record(T0, T0, 0, 0, 0, -128));
    }

    @Test
    void aRecordBillsItsRunTimeRoundedUp() {
        InvocationRecord r = record(T0, T0.plusMillis(250), 5, 100_000, 1_500, 256);
        assertEquals(250, r.durationMillis());
        assertEquals(2, r.billedMillis());
        assertEquals(Billing.gbSeconds(256, 2), r.gbSeconds());
        assertEquals(1, record(T0, T0, 0, 0, 0, 128).billedMillis(), "at least 1 ms");
    }

    // ---- InvocationRequest --------------------------------------------------------------------------------------

    @Test
    void aRequestFillsDefaults() {
        InvocationRequest r = new InvocationRequest(null, null, null, null, null);
        assertEquals("POST", r.method());
        assertEquals("/", r.path());
        assertEquals("", r.query());
        assertTrue(r.headers().isEmpty());
        assertEquals(0, r.body().length);
        assertEquals("POST", new InvocationRequest("", "", "", Map.of(), new byte[0]).method());

        InvocationRequest of = InvocationRequest.of("héllo");
        assertEquals("POST", of.method());
        assertArrayEquals("héllo".getBytes(StandardCharsets.UTF_8), of.body());
        assertEquals("héllo", of.bodyAsString());
    }

    @Test
    void requestHeaderNamesAreCaseInsensitive() {
        InvocationRequest r = new InvocationRequest("GET", "/x", "a=1",
                Map.of("Content-Type", List.of("text/plain")), null);
        assertEquals(List.of("text/plain"), r.headers().get("content-type"));
        assertEquals(List.of("text/plain"), r.headers().get("CONTENT-TYPE"));
        assertTrue(r.headers().containsKey("Content-type"));
        assertThrows(UnsupportedOperationException.class, () -> r.headers().put("X", List.of()));
    }

    @Test
    void headersThatDifferOnlyInCaseAreMergedNotLost() {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("X-Tag", List.of("a"));
        headers.put("x-tag", List.of("b", "c"));
        InvocationRequest r = new InvocationRequest("POST", "/", "", headers, null);
        assertEquals(1, r.headers().size());
        assertEquals(List.of("a", "b", "c"), r.headers().get("X-TAG"));
    }

    @Test
    void requestHeadersAreACopy() {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("A", new java.util.ArrayList<>(List.of("1")));
        InvocationRequest r = new InvocationRequest("POST", "/", "", headers, null);
        headers.get("A").add("2");
        headers.put("B", List.of("x"));
        assertEquals(List.of("1"), r.headers().get("a"));
        assertFalse(r.headers().containsKey("b"));
    }

    // ---- InvocationResult, timings, options ---------------------------------------------------------------------

    @Test
    void resultExitCodeIfAnyHidesTheNoExitMarker() {
        InvocationTimings t = new InvocationTimings(T0, T0.plusMillis(3), null, null, Duration.ofMillis(1), null,
                Duration.ofMillis(2));
        assertEquals(Duration.ofMillis(3), t.total());
        assertEquals(Duration.ofMillis(1), t.coldStart());
        InvocationResult timedOut = new InvocationResult("i", "f", "n", 1, Outcome.TIMEOUT,
                InvocationResult.NO_EXIT_CODE, 0, null, null, false, null, t, -1, true);
        assertTrue(timedOut.exitCodeIfAny().isEmpty());
        assertEquals("", timedOut.outputAsString());
        assertEquals("", timedOut.logTail());
        InvocationResult failed = new InvocationResult("i", "f", "n", 1, Outcome.FUNCTION_ERROR, 3, 0, null, null,
                false, null, t, -1, true);
        assertTrue(failed.headers().isEmpty());
        assertEquals(3, failed.exitCodeIfAny().getAsInt());
        assertTrue(Outcome.FUNCTION_ERROR.isFailure());
        assertFalse(Outcome.SUCCESS.isFailure());
    }

    @Test
    void optionsRefuseNonsense() {
        GrandaOptions d = GrandaOptions.DEFAULTS;
        assertThrows(IllegalArgumentException.class, () -> d.withMaxPayloadBytes(0));
        assertThrows(IllegalArgumentException.class, () -> d.withShutdownGrace(Duration.ofSeconds(-1)));
        assertThrows(NullPointerException.class, () -> d.withLimits(null));
        assertThrows(IllegalArgumentException.class, () -> new GrandaOptions(FunctionLimits.DEFAULTS, 1, 1, 1,
                Duration.ZERO, 0, 1, PoolOptions.DEFAULTS, BuildOptions.DEFAULTS, MeteringOptions.DEFAULTS));
        assertEquals(Duration.ZERO, d.withShutdownGrace(Duration.ZERO).shutdownGrace());
    }

    @Test
    void pageCopiesItsItems() {
        List<String> items = new java.util.ArrayList<>(List.of("a"));
        Page<String> page = new Page<>(items, null);
        items.add("b");
        assertEquals(List.of("a"), page.items());
        assertTrue(page.next().isEmpty());
        assertEquals("c", new Page<>(List.of(), "c").next().orElseThrow());
    }
}
