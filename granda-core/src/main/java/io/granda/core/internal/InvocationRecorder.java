package io.granda.core.internal;

import io.granda.core.InvocationRecord;
import io.granda.core.StoreException;
import io.granda.core.spi.MeteringStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes invocation records to the {@link MeteringStore} off the invoke path, in batches, on one writer thread.
 * Not API. Thread-safe.
 *
 * <p>Guarantees: a record handed to {@link #record(InvocationRecord)} is written unless the process dies; a batch
 * the store refuses is kept and retried with backoff (the store's idempotency makes retries safe);
 * {@link #flush(Duration)} returns once everything recorded before it is stored, which gives readers
 * read-your-writes; {@link #close(Duration)} drains the queue. When the queue is full, callers wait rather than
 * lose a record.
 */
public final class InvocationRecorder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InvocationRecorder.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final MeteringStore store;
    private final int capacity;
    private final int maxBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final Condition progressed = lock.newCondition();
    private final ArrayDeque<InvocationRecord> queue = new ArrayDeque<>();
    private final Thread writer;
    /** Records handed in so far; a record's sequence number is the value after it was added. */
    private long enqueued;
    /** Records stored so far; always {@code <= enqueued}. */
    private long stored;
    private boolean closed;
    /** Set when close() stopped waiting: the writer then stops retrying a store that is going away. */
    private boolean abandoned;

    /**
     * @param store    where records go
     * @param capacity records held in memory before {@link #record} waits
     * @param maxBatch most records written in one transaction
     */
    public InvocationRecorder(MeteringStore store, int capacity, int maxBatch) {
        this.store = store;
        this.capacity = capacity;
        this.maxBatch = maxBatch;
        this.writer = Thread.ofPlatform().name("granda-recorder").daemon(true).unstarted(this::writeLoop);
        this.writer.start();
    }

    /**
     * Queues a record for writing. Waits while the queue is full.
     *
     * @param record the record
     * @throws IllegalStateException after {@link #close(Duration)}
     */
    public void record(InvocationRecord record) {
        lock.lock();
        try {
            while (queue.size() >= capacity && !closed) {
                notFull.awaitUninterruptibly();
            }
            if (closed) {
                throw new IllegalStateException("recorder is closed; record " + record.invocationId() + " refused");
            }
            queue.addLast(record);
            enqueued++;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every record queued before this call is stored.
     *
     * @param timeout longest wait
     * @return true when everything was stored in time
     */
    public boolean flush(Duration timeout) {
        lock.lock();
        try {
            long target = enqueued;
            long nanos = timeout.toNanos();
            while (stored < target && nanos > 0) {
                nanos = progressed.awaitNanos(nanos);
            }
            return stored >= target;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** @return records queued but not yet stored */
    public int pending() {
        lock.lock();
        try {
            return (int) (enqueued - stored);
        } finally {
            lock.unlock();
        }
    }

    private void writeLoop() {
        long backoffMillis = 50;
        List<InvocationRecord> batch = new ArrayList<>(maxBatch);
        while (true) {
            lock.lock();
            try {
                while (batch.isEmpty() && queue.isEmpty() && !closed) {
                    notEmpty.awaitUninterruptibly();
                }
                if (batch.isEmpty() && queue.isEmpty()) {
                    return; // closed and drained
                }
                while (batch.size() < maxBatch && !queue.isEmpty()) {
                    batch.add(queue.pollFirst());
                }
                notFull.signalAll();
            } finally {
                lock.unlock();
            }
            try {
                appendRefusingOnlyBadRecords(batch);
                lock.lock();
                try {
                    stored += batch.size();
                    progressed.signalAll();
                } finally {
                    lock.unlock();
                }
                batch.clear();
                backoffMillis = 50;
            } catch (StoreException | Error e) {
                lock.lock();
                try {
                    if (abandoned) {
                        return;
                    }
                } finally {
                    lock.unlock();
                }
                // Keep the batch: the store is idempotent by invocation id, so retrying it whole is safe.
                LOG.atError().setCause(e).addKeyValue("batch", batch.size()).addKeyValue("retryInMs", backoffMillis)
                        .log("could not store invocation records; will retry");
                sleep(backoffMillis);
                backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF.toMillis());
            }
        }
    }

    /**
     * Appends a batch. A {@link StoreException} means the store could not write (retry later, whole); any other
     * exception means the store refused something in the batch, which no retry will change: then the records go
     * one by one so that a single unstorable record cannot hold up every other call's record forever.
     */
    private void appendRefusingOnlyBadRecords(List<InvocationRecord> batch) {
        try {
            store.append(batch);
        } catch (StoreException e) {
            throw e;
        } catch (RuntimeException refused) {
            for (InvocationRecord r : batch) {
                try {
                    store.append(List.of(r));
                } catch (StoreException e) {
                    throw e;
                } catch (RuntimeException e) {
                    LOG.atError().setCause(e).addKeyValue("id", r.invocationId())
                            .addKeyValue("function", r.functionName()).log("store refused an invocation record; dropped");
                }
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops taking records and writes what is queued.
     *
     * @param timeout longest wait for the queue to drain
     * @return true when every record was stored
     */
    public boolean close(Duration timeout) {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            writer.join(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int left;
        lock.lock();
        try {
            left = (int) (enqueued - stored);
            abandoned = left > 0;
        } finally {
            lock.unlock();
        }
        if (left > 0) {
            LOG.atError().addKeyValue("pending", left).log("shut down with invocation records not yet stored");
        }
        return left == 0;
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }
}
