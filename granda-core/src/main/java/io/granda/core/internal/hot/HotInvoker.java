package io.granda.core.internal.hot;

import io.granda.core.DeployedFunction;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.InvocationTimings;
import io.granda.core.Outcome;
import io.granda.core.ShuttingDownException;
import io.granda.core.spi.Backend;
import io.granda.core.spi.Invoker;

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
        Lease lease = null;
        HotConnection connection = null;
        long acquiredAt = 0;
        for (int attempt = 1; connection == null; attempt++) {
            lease = pool.acquire(function);
            acquiredAt = System.nanoTime();
            connection = lease.instance().takeConnection(HotConnection.class);
            if (connection == null) {
                try {
                    connection = HotConnection.open(lease.instance().started().socket(),
                            acquiredAt + timeout.toNanos());
                } catch (HotConnectionException e) {
                    // The instance died while idle (nothing was sent to it, so nothing ran twice): it goes, and the
                    // call takes another one instead of failing for something that happened before it.
                    pool.release(lease, false);
                    if (attempt >= MAX_DEAD_INSTANCES) {
                        return failed(invocationId, function, start, lease, acquiredAt, Outcome.FUNCTION_ERROR,
                                "granda: " + attempt + " instances in a row refused the connection: " + e.getMessage()
                                        + "\n");
                    }
                } catch (HotExchangeException e) {
                    pool.release(lease, false);
                    return failed(invocationId, function, start, lease, acquiredAt,
                            e instanceof HotTimeoutException ? Outcome.TIMEOUT : Outcome.FUNCTION_ERROR,
                            "granda: could not connect to the instance: " + e.getMessage() + "\n");
                }
            }
        }
        PooledInstance instance = lease.instance();
        long deadline = acquiredAt + timeout.toNanos();

        boolean usable = false;
        boolean reused = connection.completedExchanges() > 0;
        Outcome outcome;
        int status = 0;
        Map<String, List<String>> headers = Map.of();
        byte[] body = new byte[0];
        String log = "";
        try {
            HotResponse response;
            try {
                response = connection.exchange(hotRequest, deadline, maxOutputBytes);
            } catch (HotConnectionException e) {
                if (!reused || !e.beforeResponse()) {
                    throw e;
                }
                // A connection kept idle may have been closed by the function (an idle timeout of its HTTP server):
                // the request then never reached it, so it goes once more on a new connection. A dead instance
                // refuses the new connection, which is the crash.
                connection.close();
                connection = HotConnection.open(instance.started().socket(), deadline);
                response = connection.exchange(hotRequest, deadline, maxOutputBytes);
            }
            usable = true;
            status = response.status();
            headers = toHeaderMap(response.headers());
            body = response.body();
            outcome = status >= 500 ? Outcome.FUNCTION_ERROR : Outcome.SUCCESS;
            if (connection.reusable()) {
                instance.returnConnection(connection);
                connection = null;
            }
        } catch (HotTimeoutException e) {
            outcome = Outcome.TIMEOUT;
        } catch (HotConnectionException e) {
            outcome = Outcome.FUNCTION_ERROR;
            log = "granda: the instance closed the connection before answering (it crashed or exited)\n"
                    + backend.logTail(instance.started(), maxLogBytes);
        } catch (HotProtocolException e) {
            outcome = Outcome.FUNCTION_ERROR;
            log = "granda: the instance's answer is not valid HTTP/1.1: " + e.getMessage() + "\n";
        } catch (HotResponseTooLargeException e) {
            outcome = Outcome.FUNCTION_ERROR;
            log = "granda: the instance's answer is larger than " + maxOutputBytes + " bytes\n";
        } catch (HotInterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShuttingDownException("interrupted while calling function '" + function.name() + "'", e);
        } catch (HotExchangeException e) {
            // The hierarchy is sealed and every kind is handled above; this keeps the compiler sure of it.
            throw new IllegalStateException(e);
        } finally {
            if (connection != null) {
                connection.close();
            }
            pool.release(lease, usable);
        }
        long runEnd = System.nanoTime();
        Instant end = clock.instant();
        if (end.isBefore(start)) {
            end = start; // a wall clock stepping back must not make a negative duration
        }
        InvocationTimings timings = new InvocationTimings(start, end, lease.queueWait(), lease.imagePull(),
                lease.createStart(), lease.init(), Duration.ofNanos(runEnd - acquiredAt));
        return new InvocationResult(invocationId, function.id(), function.name(), function.revision(), outcome,
                InvocationResult.NO_EXIT_CODE, status, headers, body, false, log, timings, -1, lease.cold());
    }

    /** A call that failed before anything was sent: no run time, the instance already given back. */
    private InvocationResult failed(String invocationId, DeployedFunction function, Instant start, Lease lease,
                                    long acquiredAt, Outcome outcome, String log) {
        Instant end = clock.instant();
        if (end.isBefore(start)) {
            end = start;
        }
        InvocationTimings timings = new InvocationTimings(start, end, lease.queueWait(), lease.imagePull(),
                lease.createStart(), lease.init(), Duration.ofNanos(System.nanoTime() - acquiredAt));
        return new InvocationResult(invocationId, function.id(), function.name(), function.revision(), outcome,
                InvocationResult.NO_EXIT_CODE, 0, Map.of(), new byte[0], false, log, timings, -1, lease.cold());
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
