package io.granda.core.spi;

/**
 * Reads the CPU time a hot instance has used so far, from the backend's accounting (for containers: their cgroup).
 * Granda reads it before and after a call to bill the call's CPU time. Thread-safe; reads must be cheap (they happen
 * on the call path), and must not throw.
 */
public interface CpuMeter extends AutoCloseable {

    /** A meter for instances whose CPU time the backend cannot read. */
    CpuMeter UNKNOWN = () -> -1;

    /** @return CPU time used by the instance since it started, in microseconds, or {@code -1} when unknown */
    long usedMicros();

    /** Releases what the meter holds open. Idempotent. */
    @Override
    default void close() {
    }
}
