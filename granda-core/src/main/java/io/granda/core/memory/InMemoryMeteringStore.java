package io.granda.core.memory;

import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.core.spi.MeteringStore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A {@link MeteringStore} held in memory: for embedding without persistence, and for tests. Records are lost when
 * the process ends, so it is no billing source. Thread-safe.
 */
public final class InMemoryMeteringStore implements MeteringStore {

    /** One aggregate's key: a tenant's function in one UTC minute. */
    private record MinuteKey(long epochMinute, String tenant, String functionId) {
    }

    /** One aggregate: the totals, and the function's name on its latest call in the minute. */
    private record Minute(UsageSummary usage, String functionName, Instant lastStart) {
        Minute plus(Minute other) {
            boolean otherIsLater = other.lastStart.isAfter(lastStart);
            return new Minute(usage.plus(other.usage), otherIsLater ? other.functionName : functionName,
                    otherIsLater ? other.lastStart : lastStart);
        }
    }

    private static final Comparator<MinuteKey> BY_MINUTE = Comparator.comparingLong(MinuteKey::epochMinute)
            .thenComparing(MinuteKey::tenant).thenComparing(MinuteKey::functionId);

    private final ReentrantLock lock = new ReentrantLock();
    /** Records in arrival order, null where one was purged; a record's cursor is its index + 1. */
    private final List<InvocationRecord> records = new ArrayList<>();
    private final Map<String, Integer> indexById = new HashMap<>();
    private final TreeMap<MinuteKey, Minute> minutes = new TreeMap<>(BY_MINUTE);

    @Override
    public List<InvocationRecord> append(List<InvocationRecord> batch) {
        lock.lock();
        try {
            List<InvocationRecord> added = new ArrayList<>(batch.size());
            for (InvocationRecord r : batch) {
                if (indexById.putIfAbsent(r.invocationId(), records.size()) == null) {
                    records.add(r);
                    minutes.merge(new MinuteKey(Math.floorDiv(r.start().getEpochSecond(), 60), r.tenant(),
                            r.functionId()), new Minute(UsageSummary.of(r), r.functionName(), r.start()), Minute::plus);
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
            Integer i = indexById.get(invocationId);
            return i == null ? Optional.empty() : Optional.ofNullable(records.get(i));
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
                if (isOf(records.get(i), functionId)) {
                    page.add(records.get(i));
                }
            }
            boolean more = false;
            for (int j = i; j >= 0; j--) {
                if (isOf(records.get(j), functionId)) {
                    more = true;
                    break;
                }
            }
            return new Page<>(page, more ? Integer.toString(i + 1) : null);
        } finally {
            lock.unlock();
        }
    }

    private static boolean isOf(InvocationRecord r, String functionId) {
        return r != null && r.functionId().equals(functionId);
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
        if (until.isBefore(since)) {
            // An empty window, as [since, until) says (and as the SQLite store answers); RecordFilter would refuse it.
            return UsageSummary.EMPTY;
        }
        RecordFilter filter = new RecordFilter(null, functionId, since, until);
        lock.lock();
        try {
            UsageSummary total = UsageSummary.EMPTY;
            for (InvocationRecord r : records) {
                if (r != null && filter.matches(r)) {
                    total = total.plus(UsageSummary.of(r));
                }
            }
            return total;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<UsageBucket> usageSeries(RecordFilter filter, Granularity granularity) {
        Map<Instant, UsageSummary> buckets = new LinkedHashMap<>();
        forEachMinute(filter, granularity, (key, minute) -> buckets.merge(
                granularity.floor(Instant.ofEpochSecond(key.epochMinute() * 60)), minute.usage(), UsageSummary::plus));
        return buckets.entrySet().stream().map(e -> new UsageBucket(e.getKey(), e.getValue())).toList();
    }

    @Override
    public List<FunctionUsage> usageByFunction(RecordFilter filter) {
        Map<MinuteKey, Minute> byFunction = new HashMap<>();
        forEachMinute(filter, Granularity.MINUTE, (key, minute) -> byFunction.merge(
                new MinuteKey(0, key.tenant(), key.functionId()), minute, Minute::plus));
        return byFunction.entrySet().stream()
                .map(e -> new FunctionUsage(e.getKey().tenant(), e.getKey().functionId(), e.getValue().functionName(),
                        e.getValue().usage()))
                .sorted(Comparator.comparing(FunctionUsage::tenant).thenComparing(FunctionUsage::functionName)
                        .thenComparing(FunctionUsage::functionId))
                .toList();
    }

    /** Visits the aggregates a filter covers, oldest minute first, with the window widened to whole buckets. */
    private void forEachMinute(RecordFilter filter, Granularity granularity,
                               BiConsumer<MinuteKey, Minute> visit) {
        // In epoch seconds rather than through Granularity.floor/ceil, whose Instants overflow for a window open
        // at Instant.MAX; bucket starts are whole seconds, so rounding until up to a second first changes nothing.
        long width = granularity.width().toSeconds();
        long untilSecond = filter.until().getEpochSecond() + (filter.until().getNano() > 0 ? 1 : 0);
        long from = Math.floorDiv(filter.since().getEpochSecond(), width) * width / 60;
        long to = Math.ceilDiv(untilSecond, width) * width / 60;
        lock.lock();
        try {
            for (Map.Entry<MinuteKey, Minute> e : minutes.subMap(new MinuteKey(from, "", ""),
                    new MinuteKey(to, "", "")).entrySet()) {
                MinuteKey k = e.getKey();
                if ((filter.tenant() == null || filter.tenant().equals(k.tenant()))
                        && (filter.functionId() == null || filter.functionId().equals(k.functionId()))) {
                    visit.accept(k, e.getValue());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long exportRecords(RecordFilter filter, Consumer<InvocationRecord> sink) {
        List<InvocationRecord> matching = new ArrayList<>();
        lock.lock();
        try {
            for (InvocationRecord r : records) {
                if (r != null && filter.matches(r)) {
                    matching.add(r);
                }
            }
        } finally {
            lock.unlock();
        }
        // A stable sort of records kept in arrival order: calls that started at the same instant come in the order
        // they were stored, as the SQLite store gives them (by its arrival sequence).
        matching.sort(Comparator.comparing(InvocationRecord::start));
        matching.forEach(sink);
        return matching.size();
    }

    @Override
    public long purgeRecordsBefore(Instant cutoff) {
        lock.lock();
        try {
            long purged = 0;
            for (int i = 0; i < records.size(); i++) {
                InvocationRecord r = records.get(i);
                if (r != null && r.start().isBefore(cutoff)) {
                    // Keep the slot (cursors are indexes) and the id (a late duplicate must still be refused).
                    records.set(i, null);
                    purged++;
                }
            }
            return purged;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long purgeAggregatesBefore(Instant cutoff) {
        long cutoffMinute = Math.floorDiv(cutoff.getEpochSecond(), 60);
        lock.lock();
        try {
            long purged = 0;
            for (Iterator<MinuteKey> it = minutes.keySet().iterator(); it.hasNext(); ) {
                if (it.next().epochMinute() >= cutoffMinute) {
                    break;
                }
                it.remove();
                purged++;
            }
            return purged;
        } finally {
            lock.unlock();
        }
    }
}
