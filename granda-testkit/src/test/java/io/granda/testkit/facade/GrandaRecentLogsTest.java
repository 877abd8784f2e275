package io.granda.testkit.facade;

import io.granda.core.CallLog;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.core.spi.RunOnceResult.Termination;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Granda#recentLogs}: the last calls of each function with the end of their logs, in memory. */
class GrandaRecentLogsTest {

    private final FakeClock clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final FakeBackend backend = new FakeBackend();
    private final Granda granda = Granda.builder().backend(backend).clock(clock).recentLogsPerFunction(3).build();

    @AfterEach
    void close() {
        granda.close();
    }

    @Test
    void eachCallLeavesItsLogTailNewestFirstBoundedPerFunction() {
        granda.deploy(FunctionSpec.builder("hello").image("granda/hello").build());
        granda.deploy(FunctionSpec.builder("other").image("granda/hello").build());
        backend.withBehaviour(req -> Runs.ended(Termination.EXITED, 0, "stderr of " + Runs.payload(req)));
        String last = null;
        for (int i = 1; i <= 5; i++) {
            last = granda.invoke("hello", InvocationRequest.of("call " + i)).invocationId();
        }
        granda.invoke("other", InvocationRequest.of("x"));

        List<CallLog> logs = granda.recentLogs("hello");
        assertEquals(3, logs.size());
        assertEquals(3, granda.recentLogsPerFunction());
        assertEquals(last, logs.get(0).invocationId());
        assertEquals(List.of("stderr of call 5", "stderr of call 4", "stderr of call 3"),
                logs.stream().map(CallLog::logTail).toList());
        assertEquals(Outcome.SUCCESS, logs.get(0).outcome());
        assertEquals(200, logs.get(0).status());
        assertEquals(0, logs.get(0).exitCode());
        assertEquals(1, granda.recentLogs("other").size());
    }

    @Test
    void aFailedCallKeepsItsStatusAndWhyItFailed() {
        granda.deploy(FunctionSpec.builder("hello").image("granda/hello").build());
        backend.withBehaviour(req -> Runs.ended(Termination.EXITED, 3, "Traceback: boom\n"));
        InvocationResult r = granda.invoke("hello", InvocationRequest.of(""));
        CallLog log = granda.recentLogs("hello").getFirst();
        assertEquals(r.invocationId(), log.invocationId());
        assertEquals(Outcome.FUNCTION_ERROR, log.outcome());
        assertEquals(502, log.status());
        assertEquals(3, log.exitCode());
        assertEquals("Traceback: boom\n", log.logTail());
        assertTrue(log.cold());
    }

    @Test
    void aDeletedFunctionsCallsAreForgottenAndARecreatedOneStartsEmpty() {
        granda.deploy(FunctionSpec.builder("hello").image("granda/hello").build());
        granda.invoke("hello", InvocationRequest.of(""));
        granda.delete("hello");
        assertThrows(FunctionNotFoundException.class, () -> granda.recentLogs("hello"));
        granda.deploy(FunctionSpec.builder("hello").image("granda/hello").build());
        assertEquals(List.of(), granda.recentLogs("hello"));
    }

    @Test
    void anUpdateKeepsTheCallsOfEarlierRevisions() {
        granda.deploy(FunctionSpec.builder("hello").image("granda/hello").build());
        granda.invoke("hello", InvocationRequest.of(""));
        granda.update(FunctionSpec.builder("hello").image("granda/hello").description("v2").build());
        granda.invoke("hello", InvocationRequest.of(""));
        List<CallLog> logs = granda.recentLogs("hello");
        assertEquals(List.of(2L, 1L), logs.stream().map(CallLog::revision).toList());
    }

    @Test
    void theBoundMustBeSensible() {
        assertThrows(IllegalArgumentException.class, () -> Granda.builder().recentLogsPerFunction(0));
    }
}
