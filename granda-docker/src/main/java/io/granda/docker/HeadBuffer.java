package io.granda.docker;

import java.io.OutputStream;
import java.util.Arrays;

/**
 * Keeps the first {@code limit} bytes written to it and counts the rest: a function's stdout, cut at the platform's
 * output limit. Memory grows with what is kept, never beyond the limit. Not thread-safe: one writer, read after it
 * is done.
 */
final class HeadBuffer extends OutputStream {

    private final int limit;
    private byte[] buf = new byte[0];
    private int count;
    private long total;

    HeadBuffer(int limit) {
        this.limit = limit;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        total += len;
        int keep = Math.min(len, limit - count);
        if (keep <= 0) {
            return;
        }
        if (count + keep > buf.length) {
            // Double as we go so a small output costs little and a large one is copied O(log n) times.
            buf = Arrays.copyOf(buf, Math.min(limit, Math.max(count + keep, Math.max(256, buf.length * 2))));
        }
        System.arraycopy(b, off, buf, count, keep);
        count += keep;
    }

    /** @return the bytes kept */
    byte[] toByteArray() {
        return Arrays.copyOf(buf, count);
    }

    /** @return true when more was written than kept */
    boolean truncated() {
        return total > limit;
    }
}
