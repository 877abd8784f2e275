package io.granda.store;

import io.granda.core.StoreException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of read-only connections lent out one caller at a time. Not API. Thread-safe.
 *
 * <p>In WAL mode readers never block the writer nor each other, and each statement reads the latest committed
 * data, so a read right after a write sees it. A caller waits only when every connection is lent out, and waiters
 * are served first come, first served: a fair {@link Semaphore} hands out the connections, so a thread that reads in
 * a loop cannot take a connection back ahead of one that has been waiting. Nothing here uses a monitor, so virtual
 * threads are not pinned while waiting.
 */
final class ReaderPool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReaderPool.class);

    /** One permit per idle connection; fair, so waiters are served in order. */
    private final Semaphore permits;
    /** Guards {@link #idle} and {@link #closed}; held only for a push or a pop, never while waiting. */
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Handle> idle = new ArrayDeque<>();
    private boolean closed;

    /**
     * Opens {@code size} connections; closes those already open if one fails.
     *
     * @param jdbi where connections come from
     * @param size how many
     */
    ReaderPool(Jdbi jdbi, int size) {
        List<Handle> opened = new ArrayList<>(size);
        try {
            for (int i = 0; i < size; i++) {
                Handle h = jdbi.open();
                opened.add(h);
                // A second line of defence: the store never writes through a reader, and SQLite now refuses to.
                h.execute("PRAGMA query_only = ON");
            }
        } catch (RuntimeException e) {
            opened.forEach(ReaderPool::closeQuietly);
            throw e;
        }
        idle.addAll(opened);
        permits = new Semaphore(size, true);
    }

    /**
     * Runs {@code work} on a borrowed connection.
     *
     * @throws StoreException when the pool is closed, or the caller is interrupted while waiting
     */
    <T> T read(HandleCallback<T, RuntimeException> work) {
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for a database reader connection", e);
        }
        Handle h = null;
        try {
            h = take();
            return work.withHandle(h);
        } finally {
            if (h != null) {
                giveBack(h);
            }
            permits.release();
        }
    }

    private Handle take() {
        lock.lock();
        try {
            if (closed) {
                throw new StoreException("the SQLite store is closed");
            }
            // A permit means an idle connection is there.
            return idle.pop();
        } finally {
            lock.unlock();
        }
    }

    private void giveBack(Handle h) {
        lock.lock();
        try {
            if (!closed) {
                idle.push(h);
                return;
            }
        } finally {
            lock.unlock();
        }
        closeQuietly(h);
    }

    /** Closes the idle connections now and the lent ones when they come back. Idempotent. */
    @Override
    public void close() {
        List<Handle> toClose;
        lock.lock();
        try {
            closed = true;
            toClose = new ArrayList<>(idle);
            idle.clear();
        } finally {
            lock.unlock();
        }
        toClose.forEach(ReaderPool::closeQuietly);
    }

    private static void closeQuietly(Handle h) {
        try {
            h.close();
        } catch (RuntimeException e) {
            // Closing a read-only connection loses nothing; the others must still be closed.
            LOG.atWarn().setCause(e).log("could not close a database reader connection");
        }
    }
}
