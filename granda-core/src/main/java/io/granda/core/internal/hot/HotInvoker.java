package io.granda.core.internal.hot;

import io.granda.core.DeployedFunction;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.InvocationTimings;
import io.granda.core.Outcome;
import io.granda.core.ShuttingDownException;
import io.granda.core.spi.Backend;
import io.granda.core.spi.Invoker;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Serves hot functions: takes an instance from the {@link WarmPool}, sends the call over the instance's unix socket
 * as the protocol in docs/hot-functions.md says, and gives the instance back, or has it removed when the call left it
 * in doubt. Not API. Thread-safe.
 */
public final class HotInvoker implements Invoker {

    /** Caller headers that describe the caller's connection to Granda, not the call; never forwarded. */
    private static final Set<String> NOT_FORWARDED = Set.of("host", "content-length", "connection", "keep-alive",
            "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
            "proxy-authenticate", "expect");

    private final WarmPool pool;
    private final Backend backend;
    private final Clock clock;
    private final int maxOutputBytes;
    private final int maxLogBytes;

    /**
     * @param pool           where instances come from
     * @param backend        asked for an instance's log when it crashes
     * @param clock          time source of the call's start and end
     * @param maxOutputBytes largest response body accepted from a function
     * @param maxLogBytes    how much of a crashed instance's log to keep
     */
    public HotInvoker(WarmPool pool, Backend backend, Clock clock, int maxOutputBytes, int maxLogBytes) {
        this.pool = pool;
        this.backend = backend;
        this.clock = clock;
        this.maxOutputBytes = maxOutputBytes;
        this.maxLogBytes = maxLogBytes;
    }

    /** Closes the idle connections of an instance that is gone; the pool calls it after removing one. */
    public static void closeConnections(PooledInstance instance) {
        for (Object c : instance.drainConnections()) {
            ((HotConnection) c).close();
        }
    }

    /** How many instances a call tries when each turns out dead before it was sent anything. */
    private static final int MAX_DEAD_INSTANCES = 3;

    @Override
    public InvocationResult invoke(String invocationId, DeployedFunction function, InvocationRequest request) {
        Instant start = clock.instant();
        Duration timeout = function.spec().timeout();
        HotRequest hotRequest = toHotRequest(invocationId, function, request, start.plus(timeout), timeout);
        for (int attempt = 1; ; attempt++) {
            Lease lease = pool.acquire(function);
            Attempt a = attempt(lease, hotRequest, timeout);
            if (a.result == Attempt.DEAD_BEFORE_SENDING) {
                // The instance died while idle: nothing reached it, so nothing ran; it goes (already given back as
                // unusable) and the call takes another instance rather than failing for what happened before it.
                if (attempt < MAX_DEAD_INSTANCES) {
                    continue;
                }
                return result(invocationId, function, start, lease, a.acquiredAt, System.nanoTime(),
                        Outcome.FUNCTION_ERROR, null, "granda: " + attempt
                                + " instances in a row were gone before the call could be sent\n", -1);
            }
            return result(invocationId, function, start, lease, a.acquiredAt, a.ended, a.outcome, a.response, a.log,
                    a.cpuMicros);
        }
    }

    /** What one try on one instance came to. */
    private static final class Attempt {
        static final Object DEAD_BEFORE_SENDING = new Object();
        long acquiredAt;
        long ended;
        /** CPU time the instance used during the call, -1 when unknown or shared with an overlapping call. */
        long cpuMicros = -1;
        Object result;
        Outcome outcome;
        HotResponse response;
        String log = "";
    }

    /** Sends the call to the leased instance and gives the lease back, usable or not. */
    private Attempt attempt(Lease lease, HotRequest hotRequest, Duration timeout) {
        Attempt a = new Attempt();
        a.acquiredAt = System.nanoTime();
        long deadline = a.acquiredAt + timeout.toNanos();
        PooledInstance instance = lease.instance();
        Path socket = instance.started().socket();
        PooledInstance.CpuSample cpu = instance.cpuBefore();
        boolean usable = false;
        boolean connectFailed = false;
        HotConnection connection = instance.takeConnection(HotConnection.class);
        try {
            if (connection == null) {
                connectFailed = true;
                connection = HotConnection.open(socket, deadline);
                connectFailed = false;
            }
            HotResponse response;
            try {
                response = connection.exchange(hotRequest, deadline, maxOutputBytes);
            } catch (HotConnectionException e) {
                if (connection.completedExchanges() == 0 || !e.beforeResponse()) {
                    throw e;
                }
                // A connection kept idle may have been closed by the function (an idle timeout of its HTTP server):
                // the request then never reached it, so it goes once more on a new connection. An instance that
                // refuses the new connection is gone.
                connection.close();
                connectFailed = true;
                connection = HotConnection.open(socket, deadline);
                connectFailed = false;
                response = connection.exchange(hotRequest, deadline, maxOutputBytes);
            }
            usable = true;
            a.response = response;
            a.outcome = response.status() >= 500 ? Outcome.FUNCTION_ERROR : Outcome.SUCCESS;
            if (connection.reusable()) {
                instance.returnConnection(connection);
                connection = null;
            }
        } catch (HotTimeoutException e) {
            a.outcome = Outcome.TIMEOUT;
        } catch (HotConnectionException e) {
            a.outcome = Outcome.FUNCTION_ERROR;
            String why = "it crashed or exited";
            if (connectFailed) {
                // Nobody listens on the instance's socket any more: its process is gone.
                a.result = Attempt.DEAD_BEFORE_SENDING;
            } else if (backend.killedForMemory(instance.started())) {
                // Asked only here, on the failure path: a call that answered costs no look at the instance. Asked
                // before the release below, which has the instance removed.
                a.outcome = Outcome.OUT_OF_MEMORY;
                why = "it was killed for exceeding its memory limit of " + instance.function().spec().memoryMb()
                        + " MiB";
            }
            a.log = "granda: the instance closed the connection before answering (" + why + ")\n"
                    + backend.logTail(instance.started(), maxLogBytes);
        } catch (HotProtocolException e) {
            a.outcome = Outcome.FUNCTION_ERROR;
            a.log = "granda: the instance's answer is not valid HTTP/1.1: " + e.getMessage() + "\n";
        } catch (HotResponseTooLargeException e) {
            a.outcome = Outcome.FUNCTION_ERROR;
            a.log = "granda: the instance's answer is larger than " + maxOutputBytes + " bytes\n";
        } catch (HotInterruptedException e) {
            pool.release(lease, false);
            closeQuietly(connection);
            Thread.currentThread().interrupt();
            throw new ShuttingDownException("interrupted while calling function '"
                    + instance.function().name() + "'", e);
        } catch (HotExchangeException e) {
            // The hierarchy is sealed and every kind is handled above; this keeps the compiler sure of it.
            throw new IllegalStateException(e);
        }
        a.ended = System.nanoTime();
        a.cpuMicros = instance.cpuAfter(cpu);
        closeQuietly(connection);
        pool.release(lease, usable);
        return a;
    }

    private static void closeQuietly(HotConnection connection) {
        if (connection != null) {
            connection.close();
        }
    }

    private InvocationResult result(String invocationId, DeployedFunction function, Instant start, Lease lease,
                                    long acquiredAt, long ended, Outcome outcome, HotResponse response, String log,
                                    long cpuMicros) {
        Instant end = clock.instant();
        if (end.isBefore(start)) {
            end = start; // a wall clock stepping back must not make a negative duration
        }
        InvocationTimings timings = new InvocationTimings(start, end, lease.queueWait(), lease.imagePull(),
                lease.createStart(), lease.init(), Duration.ofNanos(ended - acquiredAt));
        int status = response == null ? 0 : response.status();
        Map<String, List<String>> headers = response == null ? Map.of() : toHeaderMap(response.headers());
        byte[] body = response == null ? new byte[0] : response.body();
        return new InvocationResult(invocationId, function.id(), function.name(), function.revision(), outcome,
                InvocationResult.NO_EXIT_CODE, status, headers, body, false, log, timings, cpuMicros, lease.cold());
    }

    private static HotRequest toHotRequest(String invocationId, DeployedFunction function, InvocationRequest request,
                                           Instant deadline, Duration timeout) {
        List<HotHeader> headers = new ArrayList<>(request.headers().size() + 5);
        request.headers().forEach((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            // Granda-* headers are Granda's word to the function: a caller must not be able to forge them.
            if (!NOT_FORWARDED.contains(lower) && !lower.startsWith("proxy-") && !lower.startsWith("granda-")) {
                for (String v : values) {
                    headers.add(new HotHeader(name, v));
                }
            }
        });
        headers.add(new HotHeader("Granda-Call-Id", invocationId));
        headers.add(new HotHeader("Granda-Deadline",
                DateTimeFormatter.ISO_INSTANT.format(deadline.truncatedTo(ChronoUnit.MILLIS))));
        headers.add(new HotHeader("Granda-Timeout-Ms", Long.toString(timeout.toMillis())));
        headers.add(new HotHeader("Granda-Function", function.name()));
        headers.add(new HotHeader("Granda-Revision", Long.toString(function.revision())));
        String target = request.query().isEmpty() ? request.path() : request.path() + "?" + request.query();
        return new HotRequest(request.method(), target, headers, request.body());
    }

    private static Map<String, List<String>> toHeaderMap(List<HotHeader> headers) {
        if (headers.isEmpty()) {
            return Map.of();
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (HotHeader h : headers) {
            out.computeIfAbsent(h.name(), k -> new ArrayList<>(1)).add(h.value());
        }
        return out;
    }
}
