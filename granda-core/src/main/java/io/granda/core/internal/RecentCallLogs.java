package io.granda.core.internal;

import io.granda.core.CallLog;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last calls of each function with the end of their logs, in memory: a ring of at most {@code capacity} entries
 * per function id, so its size is bounded by the number of functions. Not API. Thread-safe; adding costs a map
 * lookup and a short lock on that function's ring, nothing on the way of other functions' calls.
 */
public final class RecentCallLogs {

    private final int capacity;
    private final ConcurrentHashMap<String, Ring> rings = new ConcurrentHashMap<>();

    /** @param capacity calls kept per function, at least 1 */
    public RecentCallLogs(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
    }

    /** @return calls kept per function */
    public int capacity() {
        return capacity;
    }

    /** Remembers a call of the function with that id, forgetting its oldest one when the ring is full. */
    public void add(String functionId, CallLog call) {
        rings.computeIfAbsent(functionId, id -> new Ring(capacity)).add(call);
    }

    /** @return the function's remembered calls, newest first; empty when there are none */
    public List<CallLog> newestFirst(String functionId) {
        Ring ring = rings.get(functionId);
        return ring == null ? List.of() : ring.newestFirst();
    }

    /** Forgets a function's calls (it was deleted). */
    public void remove(String functionId) {
        rings.remove(functionId);
    }

    /** @return how many functions have calls remembered */
    public int functions() {
        return rings.size();
    }

    private static final class Ring {
        private final int capacity;
        private final ArrayDeque<CallLog> calls;

        Ring(int capacity) {
            this.capacity = capacity;
            this.calls = new ArrayDeque<>(Math.min(capacity, 64));
        }

        synchronized void add(CallLog call) {
            if (calls.size() == capacity) {
                calls.removeFirst();
            }
            calls.addLast(call);
        }

        synchronized List<CallLog> newestFirst() {
            List<CallLog> out = new ArrayList<>(calls.size());
            calls.descendingIterator().forEachRemaining(out::add);
            return java.util.Collections.unmodifiableList(out);
        }
    }
}
