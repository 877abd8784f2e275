package io.granda.core.internal.hot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.List;

import static java.nio.charset.StandardCharsets.US_ASCII;

/**
 * Writes requests to one connection, owning that connection's write buffer:
 *
 * <pre>
 * METHOD target HTTP/1.1
 * Host: granda
 * Content-Length: n
 * (the request's headers, in order, minus those the connection owns)
 *
 * body
 * </pre>
 *
 * <p>The head is encoded straight into the buffer (no {@code String} concatenation) and, when the body fits behind
 * it, the body too, so that a typical call is one {@code write}. A larger body follows in slices.
 *
 * <p>Not thread-safe: one request at a time, on the connection's exchanging thread.
 */
final class HotRequestWriter {

    private static final byte[] VERSION_HOST_LENGTH = " HTTP/1.1\r\nHost: granda\r\nContent-Length: ".getBytes(US_ASCII);
    private static final int INITIAL_BUFFER_BYTES = 16 * 1024;
    /**
     * Largest single write of a body slice. The JDK writes a heap buffer through a temporary direct copy of all of
     * its remaining bytes, again after every partial write (non-blocking sockets under virtual threads write
     * partially), so unbounded slices would copy a large body many times over.
     */
    private static final int MAX_WRITE_SLICE_BYTES = 64 * 1024;

    private byte[] buf = new byte[INITIAL_BUFFER_BYTES];
    private ByteBuffer bufView = ByteBuffer.wrap(buf);

    /**
     * Writes the whole request.
     *
     * @throws IOException if a write fails (the peer went away, or the channel was closed under it)
     */
    void write(WritableByteChannel channel, HotRequest request) throws IOException {
        byte[] body = request.body();
        int p = 0;
        p = put(request.method(), p);
        ensure(p, 1);
        buf[p++] = ' ';
        p = put(request.target(), p);
        ensure(p, VERSION_HOST_LENGTH.length + 12);
        System.arraycopy(VERSION_HOST_LENGTH, 0, buf, p, VERSION_HOST_LENGTH.length);
        p += VERSION_HOST_LENGTH.length;
        p = putDecimal(body.length, p);
        p = putCrLf(p);
        List<HotHeader> headers = request.headers();
        for (int i = 0, n = headers.size(); i < n; i++) {
            HotHeader header = headers.get(i);
            if (HttpSyntax.isOwnedByConnection(header.name())) {
                continue;
            }
            p = put(header.name(), p);
            ensure(p, 2);
            buf[p++] = ':';
            buf[p++] = ' ';
            p = put(header.value(), p);
            p = putCrLf(p);
        }
        p = putCrLf(p);

        // Head and as much of the body as fits go in one write; the rest, if any, in slices.
        int inline = Math.min(body.length, buf.length - p);
        System.arraycopy(body, 0, buf, p, inline);
        bufView.limit(p + inline).position(0);
        while (bufView.hasRemaining()) {
            channel.write(bufView);
        }
        if (inline < body.length) {
            ByteBuffer rest = ByteBuffer.wrap(body);
            int position = inline;
            while (position < body.length) {
                rest.limit(Math.min(body.length, position + MAX_WRITE_SLICE_BYTES)).position(position);
                position += channel.write(rest);
            }
        }
    }

    /** Copies a string already checked to hold only chars up to 0xFF (see {@link HotRequest}), one byte each. */
    private int put(String s, int p) {
        int length = s.length();
        ensure(p, length);
        for (int i = 0; i < length; i++) {
            buf[p + i] = (byte) s.charAt(i);
        }
        return p + length;
    }

    private int putCrLf(int p) {
        ensure(p, 2);
        buf[p] = '\r';
        buf[p + 1] = '\n';
        return p + 2;
    }

    private int putDecimal(int value, int p) {
        // At most 10 digits; ensure() was called with room for them by the caller.
        int digits = 1;
        for (int v = value; v >= 10; v /= 10) {
            digits++;
        }
        for (int i = p + digits - 1; i >= p; i--) {
            buf[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return p + digits;
    }

    /** Grows the buffer, keeping {@code buf[0, p)}, so that {@code extra} more bytes fit. Rare: heads are small. */
    private void ensure(int p, int extra) {
        if (p + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(2 * buf.length, p + extra));
            bufView = ByteBuffer.wrap(buf);
        }
    }
}
