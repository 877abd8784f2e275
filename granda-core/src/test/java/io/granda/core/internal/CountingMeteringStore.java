package io.granda.core.internal;

import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.StoreException;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.core.spi.MeteringStore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A metering store for recorder tests that counts what it is given, can refuse the next N batches and can hold
 * every append at a gate until the test opens it. Thread-safe. Only append and find are real; the rest is unused.
 */
final class CountingMeteringStore implements MeteringStore {

    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, InvocationRecord> stored = new LinkedHashMap<>();
    /** How many successful appends each invocation id was part of (1 unless a record is sent twice). */
    private final Map<String, Integer> deliveries = new LinkedHashMap<>();
    /** The ids of every batch handed to append, in order, failed ones included. */
    private final List<List<String>> attempts = new ArrayList<>();
    private final AtomicInteger appendCalls = new AtomicInteger();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private final CountDownLatch firstAppendEntered = new CountDownLatch(1);
    private volatile CountDownLatch gate = new CountDownLatch(0);

    /** Makes the next {@code n} appends throw without storing anything. */
    CountingMeteringStore failNext(int n) {
        failuresLeft.set(n);
        return this;
    }

    /** Holds every append until {@link #open()}. */
    CountingMeteringStore closeGate() {
        gate = new CountDownLatch(1);
        return this;
    }

    void open() {
        gate.countDown();
    }

    /** Waits until the first append has begun (it may be held at the gate). */
    void awaitFirstAppend() throws InterruptedException {
        firstAppendEntered.await();
    }

    int appendCalls() {
        return appendCalls.get();
    }

    int storedCount() {
        lock.lock();
        try {
            return stored.size();
        } finally {
            lock.unlock();
        }
    }

    Map<String, Integer> deliveries() {
        lock.lock();
        try {
            return Map.copyOf(deliveries);
        } finally {
            lock.unlock();
        }
    }

    List<List<String>> attempts() {
        lock.lock();
        try {
            return List.copyOf(attempts);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<InvocationRecord> append(List<InvocationRecord> records) {
        appendCalls.incrementAndGet();
        // Copy now: the caller may reuse its list after we return.
        List<InvocationRecord> batch = List.copyOf(records);
        lock.lock();
        try {
            attempts.add(batch.stream().map(InvocationRecord::invocationId).toList());
        } finally {
            lock.unlock();
        }
        firstAppendEntered.countDown();
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted", e);
        }
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new StoreException("store refuses this batch (test)");
        }
        lock.lock();
        try {
            List<InvocationRecord> added = new ArrayList<>();
            for (InvocationRecord r : batch) {
                deliveries.merge(r.invocationId(), 1, Integer::sum);
                if (stored.putIfAbsent(r.invocationId(), r) == null) {
                    added.add(r);
                }
            }
            return added;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<InvocationRecord> find(String invocationId) {
        lock.lock();
        try {
            return Optional.ofNullable(stored.get(invocationId));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Page<InvocationRecord> invocations(String functionId, int limit, String cursor) {
        throw new UnsupportedOperationException("not needed by recorder tests");
    }

    @Override
    public UsageSummary usage(String functionId, Instant since, Instant until) {
        throw new UnsupportedOperationException("not needed by recorder tests");
    }

    @Override
    public List<UsageBucket> usageSeries(RecordFilter filter, Granularity granularity) {
        throw new UnsupportedOperationException("not needed by recorder tests");
    }

    @Override
    public List<FunctionUsage> usageByFunction(RecordFilter filter) {
        throw new UnsupportedOperationException("not needed by recorder tests");
    }

    @Override
    public long exportRecords(RecordFilter filter, Consumer<InvocationRecord> sink) {
        throw new UnsupportedOperationException("not needed by recorder tests");
    }

    @Override
    public long purgeRecordsBefore(Instant cutoff) {
        throw new UnsupportedOperationException("not needed by recorder tests");
    }

    @Override
    public long purgeAggregatesBefore(Instant cutoff) {
        throw new UnsupportedOperationException("not needed by recorder tests");
    }
}
