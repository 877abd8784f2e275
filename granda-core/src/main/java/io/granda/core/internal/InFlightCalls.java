package io.granda.core.internal;

import io.granda.core.ShuttingDownException;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts calls under way so that shutdown can stop taking new ones and wait for the rest. Not API. Thread-safe.
 */
public final class InFlightCalls {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition drained = lock.newCondition();
    private int count;
    private boolean closing;

    /**
     * Registers a call.
     *
     * @throws ShuttingDownException once {@link #closeAndAwait(Duration)} has begun
     */
    public void enter() {
        lock.lock();
        try {
            if (closing) {
                throw new ShuttingDownException("Granda is shutting down and takes no new calls");
            }
            count++;
        } finally {
            lock.unlock();
        }
    }

    /** Marks a registered call as finished. */
    public void exit() {
        lock.lock();
        try {
            if (--count == 0) {
                drained.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return the number of calls under way */
    public int count() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses new calls from now on and waits for those under way.
     *
     * @param grace longest wait
     * @return the number of calls still under way when the wait ended (0 when all finished)
     */
    public int closeAndAwait(Duration grace) throws InterruptedException {
        lock.lock();
        try {
            closing = true;
            long nanos = grace.toNanos();
            while (count > 0 && nanos > 0) {
                nanos = drained.awaitNanos(nanos);
            }
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** @return true once closing has begun */
    public boolean isClosing() {
        lock.lock();
        try {
            return closing;
        } finally {
            lock.unlock();
        }
    }
}
