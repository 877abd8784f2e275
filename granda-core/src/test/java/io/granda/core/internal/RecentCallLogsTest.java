package io.granda.core.internal;

import io.granda.core.CallLog;
import io.granda.core.InvocationResult;
import io.granda.core.InvocationTimings;
import io.granda.core.Outcome;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bounded in-memory ring of recent calls per function, and what each call keeps of its result. */
class RecentCallLogsTest {

    private static final Instant T0 = Instant.parse("2026-11-26T16:00:00Z");

    private static CallLog call(String id) {
        return new CallLog(id, "hello", 1, T0, T0.plusMillis(5), Outcome.SUCCESS, 200, 0, false, "log of " + id);
    }

    private static InvocationResult result(Outcome outcome, int exitCode, int httpStatus, String output, String log) {
        InvocationTimings t = new InvocationTimings(T0, T0.plusMillis(42), null, null, Duration.ofMillis(30), null,
                Duration.ofMillis(12));
        return new InvocationResult("01kb0z1m6b7q2r3s4t5v6w7x8y", "fid", "hello", 3, outcome, exitCode, httpStatus,
                Map.of(), output.getBytes(StandardCharsets.UTF_8), false, log, t, -1, true);
    }

    private static List<String> ids(List<CallLog> calls) {
        return calls.stream().map(CallLog::invocationId).toList();
    }

    @Test
    void keepsTheLastCallsOfEachFunctionNewestFirst() {
        RecentCallLogs logs = new RecentCallLogs(3);
        for (int i = 1; i <= 5; i++) {
            logs.add("f1", call("a" + i));
        }
        logs.add("f2", call("b1"));
        assertEquals(List.of("a5", "a4", "a3"), ids(logs.newestFirst("f1")));
        assertEquals(List.of("b1"), ids(logs.newestFirst("f2")));
        assertEquals(List.of(), logs.newestFirst("nobody"));
        assertEquals(2, logs.functions());
        assertEquals(3, logs.capacity());
    }

    @Test
    void forgetsADeletedFunction() {
        RecentCallLogs logs = new RecentCallLogs(50);
        logs.add("f1", call("a1"));
        logs.remove("f1");
        assertEquals(List.of(), logs.newestFirst("f1"));
        assertEquals(0, logs.functions());
    }

    @Test
    void aListIsASnapshot() {
        RecentCallLogs logs = new RecentCallLogs(2);
        logs.add("f1", call("a1"));
        List<CallLog> before = logs.newestFirst("f1");
        logs.add("f1", call("a2"));
        assertEquals(List.of("a1"), ids(before));
        assertThrows(UnsupportedOperationException.class, () -> logs.newestFirst("f1").clear());
    }

    @Test
    void capacityMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new RecentCallLogs(0));
    }

    @Test
    void staysBoundedUnderConcurrentCalls() throws Exception {
        RecentCallLogs logs = new RecentCallLogs(50);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < 1000; i++) {
                    logs.add("f1", call(thread + "-" + i));
                    assertTrue(logs.newestFirst("f1").size() <= 50);
                }
                return null;
            }));
        }
        go.countDown();
        for (var f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(50, logs.newestFirst("f1").size());
    }

    @Test
    void aRunModeCallKeepsItsStderrTailAndItsStatus() {
        CallLog ok = CallLog.of(result(Outcome.SUCCESS, 0, 0, "Hello", "warming up\n"), 4096);
        assertEquals(200, ok.status());
        assertEquals("warming up\n", ok.logTail());
        assertEquals(Duration.ofMillis(42), ok.duration());
        assertEquals(3, ok.revision());
        assertTrue(ok.cold());

        assertEquals(502, CallLog.of(result(Outcome.FUNCTION_ERROR, 3, 0, "", "boom"), 4096).status());
        assertEquals(502, CallLog.of(result(Outcome.OUT_OF_MEMORY, 137, 0, "", "Killed"), 4096).status());
        assertEquals(504, CallLog.of(result(Outcome.TIMEOUT, -1, 0, "", ""), 4096).status());
    }

    @Test
    void aHotCallKeepsItsOwnStatusAndA5xxAnswerStandsInForAMissingLog() {
        assertEquals(201, CallLog.of(result(Outcome.SUCCESS, -1, 201, "made", ""), 4096).status());
        assertEquals("", CallLog.of(result(Outcome.SUCCESS, -1, 200, "fine", ""), 4096).logTail(),
                "a successful answer is output, not log");
        CallLog crashed = CallLog.of(result(Outcome.FUNCTION_ERROR, -1, 500, "Traceback: ZeroDivisionError", ""), 4096);
        assertEquals(500, crashed.status());
        assertEquals("Traceback: ZeroDivisionError", crashed.logTail());
        CallLog explained = CallLog.of(result(Outcome.FUNCTION_ERROR, -1, 0, "", "granda: the instance crashed"), 4096);
        assertEquals("granda: the instance crashed", explained.logTail());
    }

    @Test
    void aLongFailedAnswerKeepsOnlyItsEnd() {
        String answer = "é".repeat(100_000) + "ZeroDivisionError: division by zero";
        CallLog crashed = CallLog.of(result(Outcome.FUNCTION_ERROR, -1, 500, answer, ""), 40);
        assertEquals(40, crashed.logTail().length());
        assertTrue(crashed.logTail().endsWith("ZeroDivisionError: division by zero"), crashed.logTail());
        assertTrue(crashed.logTail().startsWith("é"), crashed.logTail());
    }

    @Test
    void keepsOnlyTheEndOfALongLog() {
        String log = "x".repeat(100) + "the end";
        assertEquals("the end", CallLog.of(result(Outcome.SUCCESS, 0, 0, "", log), 7).logTail());
    }
}
