package io.granda.bench;

import java.util.Arrays;

/**
 * Latency samples in nanoseconds, and their percentiles. Recording is an array store (the array doubles when full),
 * so a timed loop allocates nothing in the steady state. Not thread-safe: one recorder per thread, merged afterwards.
 */
public final class Samples {

    private long[] values;
    private int size;
    private long[] sorted;

    /** @param expected how many samples to make room for at first */
    public Samples(int expected) {
        values = new long[Math.max(16, expected)];
    }

    /** Adds one sample. */
    public void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, values.length * 2);
        }
        values[size++] = nanos;
        sorted = null;
    }

    /** Adds every sample of another recorder. */
    public void addAll(Samples other) {
        for (int i = 0; i < other.size; i++) {
            add(other.values[i]);
        }
    }

    /** @return how many samples there are */
    public int count() {
        return size;
    }

    /**
     * @param percent 0 to 100
     * @return the nearest-rank percentile in nanoseconds (the smallest sample that at least that share of all
     *         samples does not exceed), -1 when there is no sample
     */
    public long percentile(double percent) {
        if (size == 0) {
            return -1;
        }
        long[] s = sorted();
        int rank = (int) Math.ceil(percent / 100.0 * size);
        return s[Math.min(size, Math.max(1, rank)) - 1];
    }

    /** @return the median in milliseconds */
    public double p50Millis() {
        return percentile(50) / 1e6;
    }

    /** @return the 99th percentile in milliseconds */
    public double p99Millis() {
        return percentile(99) / 1e6;
    }

    /** @return a percentile in milliseconds */
    public double millis(double percent) {
        return percentile(percent) / 1e6;
    }

    /** @return the mean in milliseconds */
    public double meanMillis() {
        if (size == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < size; i++) {
            sum += values[i];
        }
        return sum / size / 1e6;
    }

    private long[] sorted() {
        if (sorted == null) {
            sorted = Arrays.copyOf(values, size);
            Arrays.sort(sorted);
        }
        return sorted;
    }
}
