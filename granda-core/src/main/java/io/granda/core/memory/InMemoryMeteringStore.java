package io.granda.core.memory;

import io.granda.core.FunctionUsage;
import io.granda.core.Granularity;
import io.granda.core.InvocationRecord;
import io.granda.core.Page;
import io.granda.core.RecordFilter;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;
import io.granda.core.spi.MeteringStore;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A {@link MeteringStore} held in memory: for embedding without persistence, and for tests. Records are lost when
 * the process ends, so it is no billing source. Thread-safe.
 *
 * <p>Records are kept in the order the SPI lists them in (by start, then invocation id), per function for listing
 * and overall for usage, export and purging, so each of these reads only the records it returns. Instants are kept
 * to the nanosecond.
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

    /**
     * A record's place in the orders records are listed and exported in: by start, then by invocation id compared
     * by code point, as the SQLite store orders them (SQLite compares text as UTF-8 bytes, which is code point
     * order; {@link String#compareTo} compares UTF-16 units, which differs past U+FFFF).
     */
    private record Position(Instant start, String invocationId) {
    }

    private static final Comparator<Position> BY_POSITION = Comparator.comparing(Position::start)
            .thenComparing(Position::invocationId, InMemoryMeteringStore::compareCodePoints);

    private static final Base64.Encoder CURSOR_ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder CURSOR_DECODER = Base64.getUrlDecoder();

    private final ReentrantLock lock = new ReentrantLock();
    /** Every id ever stored, purged or not, so that a late duplicate of a purged record is still refused. */
    private final Set<String> seen = new HashSet<>();
    /** The records not purged, by id. */
    private final Map<String, InvocationRecord> byId = new HashMap<>();
    /** The same records in order, for usage, export and purging. */
    private final TreeMap<Position, InvocationRecord> byPosition = new TreeMap<>(BY_POSITION);
    /** The same records per function, in order, for listing. */
    private final Map<String, TreeMap<Position, InvocationRecord>> byFunction = new HashMap<>();
    private final TreeMap<MinuteKey, Minute> minutes = new TreeMap<>(BY_MINUTE);

    @Override
    public List<InvocationRecord> append(List<InvocationRecord> batch) {
        lock.lock();
        try {
            List<InvocationRecord> added = new ArrayList<>(batch.size());
            for (InvocationRecord r : batch) {
                if (seen.add(r.invocationId())) {
                    Position p = new Position(r.start(), r.invocationId());
                    byId.put(r.invocationId(), r);
                    byPosition.put(p, r);
                    byFunction.computeIfAbsent(r.functionId(), f -> new TreeMap<>(BY_POSITION)).put(p, r);
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
            return Optional.ofNullable(byId.get(invocationId));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Page<InvocationRecord> invocations(String functionId, int limit, String cursor) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        Position before = parseCursor(cursor);
        lock.lock();
        try {
            TreeMap<Position, InvocationRecord> own = byFunction.get(functionId);
            if (own == null) {
                return new Page<>(List.of(), null);
            }
            // Keyset paging: everything strictly before the last record handed out, which need not be stored any
            // more (purged) for its position to say where the next page starts.
            NavigableMap<Position, InvocationRecord> rest = before == null ? own.descendingMap()
                    : own.headMap(before, false).descendingMap();
            List<InvocationRecord> page = new ArrayList<>(Math.min(limit, 1000));
            boolean more = false;
            for (InvocationRecord r : rest.values()) {
                if (page.size() == limit) {
                    more = true;
                    break;
                }
                page.add(r);
            }
            return new Page<>(page, more ? cursorOf(page.getLast()) : null);
        } finally {
            lock.unlock();
        }
    }

    /** @return the cursor of a record: {@code <epoch second>:<nanos>:<id>} in URL-safe base64, opaque to clients */
    private static String cursorOf(InvocationRecord r) {
        return CURSOR_ENCODER.encodeToString((r.start().getEpochSecond() + ":" + r.start().getNano() + ":"
                + r.invocationId()).getBytes(StandardCharsets.UTF_8));
    }

    /** @return the position a cursor stands for, {@code null} for the first page */
    private static Position parseCursor(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return null;
        }
        try {
            byte[] bytes = CURSOR_DECODER.decode(cursor);
            if (CURSOR_ENCODER.encodeToString(bytes).equals(cursor)) {
                String[] parts = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString()
                        .split(":", 3);
                if (parts.length == 3) {
                    long second = Long.parseLong(parts[0]);
                    int nano = Integer.parseInt(parts[1]);
                    if (parts[0].equals(Long.toString(second)) && parts[1].equals(Integer.toString(nano))) {
                        return new Position(Instant.ofEpochSecond(second, nano), parts[2]);
                    }
                }
            }
        } catch (IllegalArgumentException | CharacterCodingException | DateTimeException e) {
            // not base64, not UTF-8, not numbers, or no instant: fall through to the one message
        }
        throw new IllegalArgumentException("invalid cursor '" + cursor + "'");
    }

    /** Compares by Unicode code point: the order of UTF-8 bytes, in which SQLite compares text. */
    private static int compareCodePoints(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; ) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(i);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
        }
        return Integer.compare(a.length(), b.length());
    }

    /** @return the records whose start lies in {@code [since, until)}, in order; call holding the lock */
    private NavigableMap<Position, InvocationRecord> startingIn(Instant since, Instant until) {
        // "" is the least id, so these bounds take every record of since and none of until.
        return byPosition.subMap(new Position(since, ""), true, new Position(until, ""), false);
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
            for (InvocationRecord r : startingIn(since, until).values()) {
                if (filter.matches(r)) {
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
            if (filter.since().isBefore(filter.until())) {
                for (InvocationRecord r : startingIn(filter.since(), filter.until()).values()) {
                    if (filter.matches(r)) {
                        matching.add(r);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        // Already in order (start, then id); handed to the sink without the lock, which the sink may take.
        matching.forEach(sink);
        return matching.size();
    }

    @Override
    public long purgeRecordsBefore(Instant cutoff) {
        lock.lock();
        try {
            // Every record that started before the cutoff, whatever its id ("" is the least).
            NavigableMap<Position, InvocationRecord> old = byPosition.headMap(new Position(cutoff, ""), false);
            long purged = old.size();
            for (Map.Entry<Position, InvocationRecord> e : old.entrySet()) {
                InvocationRecord r = e.getValue();
                // The id stays in seen: a late duplicate must still be refused.
                byId.remove(r.invocationId());
                TreeMap<Position, InvocationRecord> own = byFunction.get(r.functionId());
                own.remove(e.getKey());
                if (own.isEmpty()) {
                    byFunction.remove(r.functionId());
                }
            }
            old.clear();
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
