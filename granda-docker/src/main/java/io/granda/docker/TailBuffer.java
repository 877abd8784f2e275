package io.granda.docker;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Keeps the last {@code capacity} bytes written to it: the tail of a function's stderr, where the error that ended it
 * usually is. A ring buffer that grows to the capacity only as needed. Not thread-safe: one writer, read after it is
 * done.
 */
final class TailBuffer extends OutputStream {

    private final int capacity;
    private byte[] buf = new byte[0];
    private int start;
    private int size;
    private long total;

    TailBuffer(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (len <= 0) {
            return;
        }
        total += len;
        if (len >= capacity) {
            // Only the end of this chunk survives.
            grow(capacity);
            System.arraycopy(b, off + len - capacity, buf, 0, capacity);
            start = 0;
            size = capacity;
            return;
        }
        grow(Math.min(capacity, size + len));
        int cap = buf.length;
        // While the buffer is still growing, start is 0 and this is a plain append; once full it wraps.
        int end = (start + size) % cap;
        int first = Math.min(len, cap - end);
        System.arraycopy(b, off, buf, end, first);
        System.arraycopy(b, off + first, buf, 0, len - first);
        int newSize = size + len;
        if (newSize > cap) {
            start = (start + newSize - cap) % cap;
            size = cap;
        } else {
            size = newSize;
        }
    }

    private void grow(int needed) {
        if (needed <= buf.length) {
            return;
        }
        int newLength = Math.min(capacity, Math.max(needed, Math.max(256, buf.length * 2)));
        // Growth happens only before the first wrap, so the data is linear from index 0.
        buf = Arrays.copyOf(buf, newLength);
    }

    /** @return the bytes kept, oldest first */
    byte[] toByteArray() {
        byte[] out = new byte[size];
        int first = Math.min(size, buf.length - start);
        System.arraycopy(buf, start, out, 0, first);
        System.arraycopy(buf, 0, out, first, size - first);
        return out;
    }

    /**
     * @return the bytes kept, decoded as UTF-8; when the start was cut, a character split by the cut is dropped
     *         rather than shown as a replacement character
     */
    String asString() {
        byte[] bytes = toByteArray();
        int from = 0;
        if (total > size) {
            // Skip UTF-8 continuation bytes (10xxxxxx) left over from a character whose start was dropped.
            while (from < bytes.length && from < 3 && (bytes[from] & 0xC0) == 0x80) {
                from++;
            }
        }
        return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
    }
}
