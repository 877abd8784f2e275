package io.granda.core.memory;

import io.granda.core.Billing;
import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.UsageSummary;
import io.granda.core.spi.MeteringStore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link MeteringStore} held in memory: for embedding without persistence, and for tests. Records are lost when
 * the process ends, so it is no billing source. Thread-safe.
 */
public final class InMemoryMeteringStore implements MeteringStore {

    private final ReentrantLock lock = new ReentrantLock();
    /** Records in arrival order; a record's cursor is its index + 1. */
    private final List<InvocationRecord> records = new ArrayList<>();
    private final Map<String, Integer> indexById = new HashMap<>();

    @Override
    public int append(List<InvocationRecord> batch) {
        lock.lock();
        try {
            int added = 0;
            for (InvocationRecord r : batch) {
                if (indexById.putIfAbsent(r.invocationId(), records.size()) == null) {
                    records.add(r);
                    added++;
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
            Integer i = indexById.get(invocationId);
            return i == null ? Optional.empty() : Optional.of(records.get(i));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Page<InvocationRecord> invocations(String functionId, int limit, String cursor) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        int before = parseCursor(cursor);
        lock.lock();
        try {
            List<InvocationRecord> page = new ArrayList<>(Math.min(limit, 1000));
            int i = Math.min(before, records.size()) - 1;
            for (; i >= 0 && page.size() < limit; i--) {
                if (records.get(i).functionId().equals(functionId)) {
                    page.add(records.get(i));
                }
            }
            boolean more = false;
            for (int j = i; j >= 0; j--) {
                if (records.get(j).functionId().equals(functionId)) {
                    more = true;
                    break;
                }
            }
            return new Page<>(page, more ? Integer.toString(i + 1) : null);
        } finally {
            lock.unlock();
        }
    }

    private int parseCursor(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return Integer.MAX_VALUE;
        }
        try {
            int value = Integer.parseInt(cursor);
            if (value < 0) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid cursor '" + cursor + "'");
        }
    }

    @Override
    public UsageSummary usage(String functionId, Instant since, Instant until) {
        lock.lock();
        try {
            long calls = 0, errors = 0, timeouts = 0, oom = 0, cold = 0, compute = 0, billed = 0, mbMillis = 0;
            for (InvocationRecord r : records) {
                if ((functionId != null && !functionId.equals(r.functionId()))
                        || r.start().isBefore(since) || !r.start().isBefore(until)) {
                    continue;
                }
                calls++;
                if (r.outcome() == Outcome.FUNCTION_ERROR) {
                    errors++;
                } else if (r.outcome() == Outcome.TIMEOUT) {
                    timeouts++;
                } else if (r.outcome() == Outcome.OUT_OF_MEMORY) {
                    oom++;
                }
                if (r.cold()) {
                    cold++;
                }
                compute += r.durationMillis();
                billed += r.billedMillis();
                mbMillis += Billing.mbMillis(r.memoryMb(), r.billedMillis());
            }
            return new UsageSummary(calls, errors, timeouts, oom, cold, compute, billed, mbMillis);
        } finally {
            lock.unlock();
        }
    }
}
