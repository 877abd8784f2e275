package io.granda.core.internal.hot;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts every state change of every instance, by from-state and to-state. Thread-safe; lock-free.
 */
public final class TransitionCounts {

    private static final int N = InstanceState.values().length;
    private final AtomicLongArray counts = new AtomicLongArray(N * N);

    void count(InstanceState from, InstanceState to) {
        counts.incrementAndGet(from.ordinal() * N + to.ordinal());
    }

    /** @return how many times an instance changed from {@code from} to {@code to} */
    public long get(InstanceState from, InstanceState to) {
        return counts.get(from.ordinal() * N + to.ordinal());
    }

    /** @return how many times an instance entered {@code to}, from any state */
    public long entered(InstanceState to) {
        long sum = 0;
        for (InstanceState from : InstanceState.values()) {
            sum += get(from, to);
        }
        return sum;
    }

    /** @return a snapshot of the non-zero counts */
    public Map<InstanceState, Map<InstanceState, Long>> snapshot() {
        Map<InstanceState, Map<InstanceState, Long>> out = new EnumMap<>(InstanceState.class);
        for (InstanceState from : InstanceState.values()) {
            for (InstanceState to : InstanceState.values()) {
                long c = get(from, to);
                if (c > 0) {
                    out.computeIfAbsent(from, k -> new EnumMap<>(InstanceState.class)).put(to, c);
                }
            }
        }
        return out;
    }
}
