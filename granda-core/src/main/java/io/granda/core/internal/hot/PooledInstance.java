package io.granda.core.internal.hot;

import io.granda.core.DeployedFunction;
import io.granda.core.spi.CpuMeter;
import io.granda.core.spi.HotInstance;

import java.time.Instant;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One hot instance as the warm pool sees it. Its mutable fields are guarded by the lock of the function pool that
 * owns it, except the idle-connection stash, which is lock-free so that the invoker can take and return connections
 * without the pool's lock. Not API.
 */
public final class PooledInstance {

    private final String id;
    private final DeployedFunction function;
    private final TransitionCounts transitions;
    private final ConcurrentLinkedDeque<Object> idleConnections = new ConcurrentLinkedDeque<>();
    private InstanceState state = InstanceState.PROVISIONING;
    private HotInstance started;
    private int inFlight;
    private long served;
    private Instant idleSince;
    private boolean retired;
    private volatile CpuMeter cpuMeter = CpuMeter.UNKNOWN;
    /** Calls being sent to this instance now, and calls ever started on it: to tell a call that ran alone. */
    private final AtomicInteger callsRunning = new AtomicInteger();
    private final AtomicLong callsStarted = new AtomicLong();

    PooledInstance(String id, DeployedFunction function, TransitionCounts transitions) {
        this.id = id;
        this.function = function;
        this.transitions = transitions;
    }

    /**
     * The one way an instance changes state: checks the change is allowed and counts it.
     *
     * @throws IllegalStateException when {@link InstanceState#next()} does not allow it
     */
    void moveTo(InstanceState next) {
        if (!state.next().contains(next)) {
            throw new IllegalStateException("instance " + id + " cannot go from " + state + " to " + next);
        }
        transitions.count(state, next);
        state = next;
    }

    /** @return the instance id */
    public String id() {
        return id;
    }

    /** @return the function revision this instance serves, and only ever serves */
    public DeployedFunction function() {
        return function;
    }

    /** @return the current state (read under the pool's lock for a consistent view) */
    public InstanceState state() {
        return state;
    }

    /** @return what the backend reported when the instance became ready, null before */
    public HotInstance started() {
        return started;
    }

    void started(HotInstance instance) {
        this.started = instance;
    }

    int inFlight() {
        return inFlight;
    }

    void inFlight(int value) {
        this.inFlight = value;
    }

    long served() {
        return served;
    }

    void servedOneMore() {
        served++;
    }

    Instant idleSince() {
        return idleSince;
    }

    void idleSince(Instant when) {
        this.idleSince = when;
    }

    /** @return true once the instance takes no new calls (its revision was replaced, or it is being removed) */
    boolean retired() {
        return retired;
    }

    void retire() {
        this.retired = true;
    }

    void cpuMeter(CpuMeter meter) {
        this.cpuMeter = meter;
    }

    /** @return the instance's CPU meter, {@link CpuMeter#UNKNOWN} when the backend has none */
    CpuMeter cpuMeter() {
        return cpuMeter;
    }

    /** What was read when a call began. */
    public record CpuSample(long usedMicros, long callNumber, boolean alone) {
    }

    /** Notes a call beginning on this instance and reads its CPU time so far. Lock-free. */
    public CpuSample cpuBefore() {
        boolean alone = callsRunning.incrementAndGet() == 1;
        long n = callsStarted.incrementAndGet();
        return new CpuSample(alone ? cpuMeter.usedMicros() : -1, n, alone);
    }

    /**
     * Notes the call ending and works out its CPU time. Only a call that had the instance to itself from start to end
     * gets a figure: with overlapping calls (concurrency above 1) the instance's CPU time cannot be split honestly.
     *
     * @return CPU microseconds the instance used during the call, or -1 when unknown
     */
    public long cpuAfter(CpuSample before) {
        long result = -1;
        if (before.alone() && before.usedMicros() >= 0 && callsStarted.get() == before.callNumber()) {
            long now = cpuMeter.usedMicros();
            if (now >= before.usedMicros() && callsStarted.get() == before.callNumber()) {
                result = now - before.usedMicros();
            }
        }
        callsRunning.decrementAndGet();
        return result;
    }

    /**
     * @param type the connection type the caller keeps here
     * @return an idle connection to this instance, or null when there is none
     */
    public <C> C takeConnection(Class<C> type) {
        Object c = idleConnections.pollFirst();
        return c == null ? null : type.cast(c);
    }

    /** Keeps a connection for the next call to this instance. */
    public void returnConnection(Object connection) {
        idleConnections.addFirst(connection);
    }

    /** @return and forget every idle connection, to close them */
    Object[] drainConnections() {
        Object[] all = idleConnections.toArray();
        idleConnections.clear();
        return all;
    }

    @Override
    public String toString() {
        return "PooledInstance[" + id + " " + function.name() + "@" + function.revision() + " " + state + "]";
    }
}
