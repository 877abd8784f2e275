package io.granda.core.internal.hot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * Reads and parses HTTP/1.1 responses from one connection, owning that connection's read buffer. Parses the bytes
 * directly: no regexes, no line {@code String}s; only the reason phrase and the header names and values that are
 * handed on become strings (ISO-8859-1, one char per byte, as HTTP stacks do).
 *
 * <p>Strict where a mistake would corrupt framing or smuggle something through (status line, header syntax,
 * {@code Content-Length}, chunk sizes, {@code Transfer-Encoding}), lenient where real servers vary: the reason
 * phrase may be missing, header names are matched ignoring case, whitespace around values is trimmed, and a bare LF
 * ends a line as well as CRLF (RFC 9112 allows recipients to accept it). {@code HTTP/1.0} responses are accepted;
 * their connection is kept only with {@code Connection: keep-alive}.
 *
 * <p>Not thread-safe: one response at a time, on the connection's exchanging thread.
 */
final class HotResponseReader {

    /** Longest response head (status line, headers, blank line), and longest trailer section. */
    static final int MAX_HEAD_BYTES = 64 * 1024;
    /** The buffer most responses fit in, head and body, so that they take one read. */
    private static final int INITIAL_BUFFER_BYTES = 16 * 1024;
    /** Longest chunk-size line, extensions included. */
    private static final int MAX_CHUNK_LINE_BYTES = 4 * 1024;
    /** A body remainder at least this large is read straight into the body array instead of through the buffer. */
    private static final int DIRECT_READ_MIN_BYTES = 8 * 1024;
    /**
     * Largest single read into a body array. The JDK reads a heap buffer through a temporary direct buffer of the
     * size asked for, cached per carrier thread; bounding it keeps those caches small.
     */
    private static final int DIRECT_READ_MAX_BYTES = 256 * 1024;
    /** Digits of the largest Content-Length accepted; anything longer is over every limit anyway. */
    private static final int MAX_CONTENT_LENGTH_DIGITS = 18;
    private static final byte[] EMPTY = new byte[0];

    private byte[] buf = new byte[INITIAL_BUFFER_BYTES];
    private ByteBuffer bufView = ByteBuffer.wrap(buf);
    /** Unconsumed bytes are {@code buf[start, end)}. */
    private int start;
    private int end;
    private final ArrayList<HotHeader> headers = new ArrayList<>(16);

    // What the head being parsed says; reset per head.
    private int status;
    private String reason;
    private boolean http11;
    private long contentLength;
    private boolean chunked;
    private boolean connectionClose;
    private boolean connectionKeepAlive;

    // Per response.
    private boolean receivedAny;
    private boolean keepAlive;

    /**
     * Reads one complete response, skipping interim (1xx) ones.
     *
     * @param channel     the connection's channel, blocking
     * @param headRequest whether the request was {@code HEAD}: the response then has no body
     * @param maxBody     the largest body accepted, in bytes
     * @throws HotProtocolException         if the bytes are not a valid response
     * @throws HotResponseTooLargeException if the body is larger than {@code maxBody}
     * @throws HotConnectionException       if the peer closed the connection before the response was complete
     * @throws IOException                  if a read fails (reset, or the channel was closed under it)
     */
    HotResponse read(ReadableByteChannel channel, boolean headRequest, int maxBody) throws IOException {
        receivedAny = false;
        keepAlive = false;
        // No pipelining: anything left over was rejected with the previous response, so start from the front.
        start = 0;
        end = 0;
        while (true) {
            readHead(channel);
            if (status >= 200) {
                break;
            }
            if (status == 101) {
                throw new HotProtocolException("101 Switching Protocols, but no upgrade was asked for");
            }
            // 100 Continue, 102, 103 Early Hints: interim, no body; the real response follows.
        }
        List<HotHeader> received = List.copyOf(headers);
        headers.clear();

        byte[] body;
        boolean delimited = true;
        if (headRequest || status == 204 || status == 304) {
            // No body whatever the headers say: for HEAD and 304 a Content-Length describes the representation.
            body = EMPTY;
        } else if (chunked) {
            body = readChunked(channel, maxBody);
        } else if (contentLength >= 0) {
            body = readFixed(channel, contentLength, maxBody);
        } else {
            body = readToEof(channel, maxBody);
            delimited = false;
        }
        if (start != end) {
            // Without pipelining nothing may follow a response; a body longer than its Content-Length, or a
            // body sent for HEAD, 204 or 304, ends up here. (Bytes that arrive later fail the next exchange.)
            throw new HotProtocolException("the instance sent " + (end - start)
                    + " bytes after the end of the response");
        }
        // Both framings at once is a smuggling pattern; Transfer-Encoding wins (RFC 9112 6.3) and the
        // connection is not reused.
        boolean clean = delimited && !(chunked && contentLength >= 0);
        keepAlive = clean && (http11 ? !connectionClose : connectionKeepAlive && !connectionClose);
        return new HotResponse(status, reason, received, body);
    }

    /** @return whether the last response read leaves the connection usable for another exchange */
    boolean keepAlive() {
        return keepAlive;
    }

    /** @return whether any byte arrived since the current (or last) {@link #read} began */
    boolean receivedAny() {
        return receivedAny;
    }

    // --- head ---

    /**
     * Reads and parses one head (status line, fields, blank line) from {@code start}, in one pass: each line is
     * parsed as soon as its LF is found, and the same loop rejects control characters, so no byte of the head is
     * looked at twice (except a header name, once more to check it is a token). Leaves {@code start} just past
     * the blank line.
     */
    private void readHead(ReadableByteChannel channel) throws IOException {
        status = 0;
        reason = "";
        contentLength = -1;
        chunked = false;
        connectionClose = false;
        connectionKeepAlive = false;
        headers.clear();
        int lineStart = start;
        int crs = 0;
        int i = start;
        while (true) {
            for (; i < end; i++) {
                int c = buf[i] & 0xff;
                if (c >= 0x20 && c != 0x7f) {
                    // Printable ASCII or obs-text: by far the most bytes, hence the first test.
                    continue;
                }
                if (c == '\r') {
                    // Allowed only right before the LF, which the line end checks by counting.
                    crs++;
                } else if (c == '\n') {
                    int lineEnd = i > lineStart && buf[i - 1] == '\r' ? i - 1 : i;
                    if (crs != i - lineEnd) {
                        throw new HotProtocolException("a bare CR in the response head");
                    }
                    crs = 0;
                    if (status == 0) {
                        parseStatusLine(lineStart, lineEnd);
                    } else if (lineEnd == lineStart) {
                        start = i + 1;
                        return;
                    } else {
                        parseField(lineStart, lineEnd);
                    }
                    lineStart = i + 1;
                } else if (c != '\t') {
                    throw new HotProtocolException(String.format("a control character (0x%02x) in the response head", c));
                }
            }
            // Everything before lineStart is parsed already; the head so far starts at start.
            if (end - start >= MAX_HEAD_BYTES) {
                throw new HotProtocolException("the response head is larger than " + MAX_HEAD_BYTES + " bytes");
            }
            int before = start;
            fill(channel, MAX_HEAD_BYTES);
            // fill may have moved the unconsumed bytes to the front of the buffer.
            lineStart -= before - start;
            i -= before - start;
        }
    }

    private void parseStatusLine(int from, int to) throws HotProtocolException {
        // "HTTP/1.x" SP 3DIGIT [ SP reason-phrase ]; the reason and the space before it are optional in practice.
        int length = to - from;
        if (length < 12 || buf[from] != 'H' || buf[from + 1] != 'T' || buf[from + 2] != 'T' || buf[from + 3] != 'P'
                || buf[from + 4] != '/' || buf[from + 5] != '1' || buf[from + 6] != '.' || buf[from + 8] != ' '
                || (length > 12 && buf[from + 12] != ' ')) {
            throw new HotProtocolException("not an HTTP/1.1 status line: " + printable(from, to));
        }
        byte minor = buf[from + 7];
        if (minor != '1' && minor != '0') {
            throw new HotProtocolException("unsupported HTTP version: " + printable(from, from + 8));
        }
        http11 = minor == '1';
        int code = 0;
        for (int i = from + 9; i < from + 12; i++) {
            int digit = buf[i] - '0';
            if (digit < 0 || digit > 9) {
                throw new HotProtocolException("the status code is not three digits: " + printable(from, to));
            }
            code = code * 10 + digit;
        }
        if (code < 100 || code > 599) {
            throw new HotProtocolException("status code out of range: " + code);
        }
        status = code;
        int reasonStart = Math.min(from + 13, to);
        int reasonLength = to - reasonStart;
        if (code == 200 && reasonLength == 2 && buf[reasonStart] == 'O' && buf[reasonStart + 1] == 'K') {
            // The one reason phrase nearly every response carries needs no new String.
            reason = "OK";
        } else if (reasonLength > 0 && code >= 200) {
            reason = new String(buf, reasonStart, reasonLength, ISO_8859_1);
        }
    }

    /** Parses one field line {@code buf[from, to)}, line ending removed, control characters already refused. */
    private void parseField(int from, int to) throws HotProtocolException {
        byte first = buf[from];
        if (first == ' ' || first == '\t') {
            // RFC 9112 5.2 lets a gateway reject obsolete line folding instead of unfolding it.
            throw new HotProtocolException("obsolete line folding in the response head");
        }
        int colon = from;
        while (colon < to && HttpSyntax.isTchar(buf[colon] & 0xff)) {
            colon++;
        }
        if (colon == to || buf[colon] != ':') {
            throw new HotProtocolException(colon == to
                    ? "a header line without a colon: " + printable(from, to)
                    : "an invalid character in a header name: " + printable(from, to));
        }
        if (colon == from) {
            throw new HotProtocolException("a header line with an empty name");
        }
        int valueStart = colon + 1;
        while (valueStart < to && (buf[valueStart] == ' ' || buf[valueStart] == '\t')) {
            valueStart++;
        }
        int valueEnd = to;
        while (valueEnd > valueStart && (buf[valueEnd - 1] == ' ' || buf[valueEnd - 1] == '\t')) {
            valueEnd--;
        }
        if (handleFramingOrHopByHop(from, colon - from, valueStart, valueEnd)) {
            return;
        }
        headers.add(new HotHeader(new String(buf, from, colon - from, ISO_8859_1),
                new String(buf, valueStart, valueEnd - valueStart, ISO_8859_1)));
    }

    /**
     * Takes in the headers that say how the response is framed and the hop-by-hop ones, by byte comparison.
     *
     * @return true if the header is consumed here and not handed on
     */
    private boolean handleFramingOrHopByHop(int name, int nameLength, int valueStart, int valueEnd)
            throws HotProtocolException {
        switch (nameLength) {
            case 2:
                return HttpSyntax.equalsLower(buf, name, nameLength, "te");
            case 7:
                return HttpSyntax.equalsLower(buf, name, nameLength, "trailer")
                        || HttpSyntax.equalsLower(buf, name, nameLength, "upgrade");
            case 10:
                if (HttpSyntax.equalsLower(buf, name, nameLength, "connection")) {
                    parseConnection(valueStart, valueEnd);
                    return true;
                }
                if (HttpSyntax.equalsLower(buf, name, nameLength, "keep-alive")) {
                    return true;
                }
                break;
            case 14:
                if (HttpSyntax.equalsLower(buf, name, nameLength, "content-length")) {
                    parseContentLength(valueStart, valueEnd);
                    return true;
                }
                break;
            case 17:
                if (HttpSyntax.equalsLower(buf, name, nameLength, "transfer-encoding")) {
                    if (chunked || !HttpSyntax.equalsLower(buf, valueStart, valueEnd - valueStart, "chunked")) {
                        // Any other coding (gzip, a second chunked) would hand the caller bytes it cannot read.
                        throw new HotProtocolException("unsupported Transfer-Encoding: only a single chunked is accepted");
                    }
                    chunked = true;
                    return true;
                }
                break;
            default:
                break;
        }
        return HttpSyntax.startsWithLower(buf, name, nameLength, "proxy-");
    }

    private void parseContentLength(int from, int to) throws HotProtocolException {
        int digits = to - from;
        if (digits == 0 || digits > MAX_CONTENT_LENGTH_DIGITS) {
            throw new HotProtocolException("invalid Content-Length: " + printable(from, to));
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            int digit = buf[i] - '0';
            if (digit < 0 || digit > 9) {
                throw new HotProtocolException("invalid Content-Length: " + printable(from, to));
            }
            value = value * 10 + digit;
        }
        // Repeats are tolerated only when they agree (RFC 9112 6.3).
        if (contentLength >= 0 && contentLength != value) {
            throw new HotProtocolException("conflicting Content-Length headers: " + contentLength + " and " + value);
        }
        contentLength = value;
    }

    /** Looks for the {@code close} and {@code keep-alive} options in a comma-separated Connection value. */
    private void parseConnection(int from, int to) {
        int p = from;
        while (p < to) {
            int comma = p;
            while (comma < to && buf[comma] != ',') {
                comma++;
            }
            int tokenStart = p;
            int tokenEnd = comma;
            while (tokenStart < tokenEnd && (buf[tokenStart] == ' ' || buf[tokenStart] == '\t')) {
                tokenStart++;
            }
            while (tokenEnd > tokenStart && (buf[tokenEnd - 1] == ' ' || buf[tokenEnd - 1] == '\t')) {
                tokenEnd--;
            }
            int length = tokenEnd - tokenStart;
            if (HttpSyntax.equalsLower(buf, tokenStart, length, "close")) {
                connectionClose = true;
            } else if (HttpSyntax.equalsLower(buf, tokenStart, length, "keep-alive")) {
                connectionKeepAlive = true;
            }
            p = comma + 1;
        }
    }

    // --- bodies ---

    private byte[] readFixed(ReadableByteChannel channel, long length, int maxBody) throws IOException {
        if (length > maxBody) {
            throw new HotResponseTooLargeException(maxBody);
        }
        if (length == 0) {
            return EMPTY;
        }
        byte[] body = new byte[(int) length];
        readInto(channel, body, 0, (int) length);
        return body;
    }

    private byte[] readChunked(ReadableByteChannel channel, int maxBody) throws IOException {
        byte[] body = EMPTY;
        int size = 0;
        while (true) {
            int lf = awaitLine(channel, MAX_CHUNK_LINE_BYTES, "chunk-size line");
            long chunkSize = parseChunkSize(start, trimCr(start, lf));
            start = lf + 1;
            if (chunkSize == 0) {
                break;
            }
            if (chunkSize > maxBody - size) {
                throw new HotResponseTooLargeException(maxBody);
            }
            int needed = size + (int) chunkSize;
            if (needed > body.length) {
                // The first chunk is allocated exactly, so a one-chunk body takes one allocation; after that, double.
                int capacity = body.length == 0 ? needed : (int) Math.min(maxBody, Math.max(needed, 2L * body.length));
                body = Arrays.copyOf(body, capacity);
            }
            readInto(channel, body, size, (int) chunkSize);
            size = needed;
            lf = awaitLine(channel, MAX_CHUNK_LINE_BYTES, "line end after chunk data");
            if (trimCr(start, lf) != start) {
                throw new HotProtocolException("chunk data longer than its chunk size");
            }
            start = lf + 1;
        }
        skipTrailers(channel);
        return size == body.length ? body : Arrays.copyOf(body, size);
    }

    /** Parses {@code 1*HEXDIG [ BWS ";" chunk-ext ]}; extensions are ignored. */
    private long parseChunkSize(int from, int to) throws HotProtocolException {
        long value = 0;
        int p = from;
        while (p < to) {
            int digit = Character.digit(buf[p], 16);
            if (digit < 0) {
                break;
            }
            if (p - from == 15) {
                throw new HotProtocolException("chunk size too large: " + printable(from, to));
            }
            value = value << 4 | digit;
            p++;
        }
        if (p == from) {
            throw new HotProtocolException("invalid chunk size: " + printable(from, to));
        }
        while (p < to && (buf[p] == ' ' || buf[p] == '\t')) {
            p++;
        }
        if (p < to && buf[p] != ';') {
            throw new HotProtocolException("invalid chunk size: " + printable(from, to));
        }
        return value;
    }

    /** Reads and drops the trailer section up to its blank line: trailers are not handed on. */
    private void skipTrailers(ReadableByteChannel channel) throws IOException {
        int total = 0;
        while (true) {
            int lf = awaitLine(channel, MAX_HEAD_BYTES - total, "trailer section");
            boolean blank = trimCr(start, lf) == start;
            total += lf + 1 - start;
            start = lf + 1;
            if (blank) {
                return;
            }
        }
    }

    /** Reads a body delimited by the end of the connection. */
    private byte[] readToEof(ReadableByteChannel channel, int maxBody) throws IOException {
        int size = end - start;
        if (size > maxBody) {
            throw new HotResponseTooLargeException(maxBody);
        }
        // One spare byte beyond the limit, so that reaching it shows the body is too large.
        long cap = (long) maxBody + 1;
        byte[] body = new byte[(int) Math.min(cap, Math.max(size, INITIAL_BUFFER_BYTES))];
        System.arraycopy(buf, start, body, 0, size);
        start = end;
        ByteBuffer view = ByteBuffer.wrap(body);
        while (true) {
            if (size == body.length) {
                if (body.length >= cap) {
                    throw new HotResponseTooLargeException(maxBody);
                }
                body = Arrays.copyOf(body, (int) Math.min(cap, 2L * body.length));
                view = ByteBuffer.wrap(body);
            }
            view.limit(Math.min(body.length, size + DIRECT_READ_MAX_BYTES)).position(size);
            int n = channel.read(view);
            if (n < 0) {
                break;
            }
            if (n > 0) {
                receivedAny = true;
            }
            size += n;
        }
        if (size > maxBody) {
            throw new HotResponseTooLargeException(maxBody);
        }
        return size == body.length ? body : Arrays.copyOf(body, size);
    }

    /** Moves exactly {@code length} body bytes into {@code dst}, from the buffer first, then from the channel. */
    private void readInto(ReadableByteChannel channel, byte[] dst, int off, int length) throws IOException {
        int buffered = Math.min(length, end - start);
        System.arraycopy(buf, start, dst, off, buffered);
        start += buffered;
        off += buffered;
        length -= buffered;
        ByteBuffer view = null;
        while (length > 0) {
            if (length >= DIRECT_READ_MIN_BYTES) {
                // Large remainder: skip the buffer, one copy fewer; never reads past the body.
                if (view == null) {
                    view = ByteBuffer.wrap(dst);
                }
                view.limit(off + Math.min(length, DIRECT_READ_MAX_BYTES)).position(off);
                int n = readSome(channel, view);
                off += n;
                length -= n;
            } else {
                start = 0;
                end = 0;
                fill(channel, INITIAL_BUFFER_BYTES);
                int n = Math.min(length, end);
                System.arraycopy(buf, 0, dst, off, n);
                start = n;
                off += n;
                length -= n;
            }
        }
    }

    // --- buffer ---

    /**
     * Waits until a line end is buffered from {@code start}.
     *
     * @param maxLength the longest line accepted, its LF included
     * @return the index of the LF
     */
    private int awaitLine(ReadableByteChannel channel, int maxLength, String what) throws IOException {
        int scanned = 0;
        while (true) {
            int limit = Math.min(end, start + maxLength);
            for (int i = start + scanned; i < limit; i++) {
                if (buf[i] == '\n') {
                    return i;
                }
            }
            scanned = limit - start;
            if (scanned >= maxLength) {
                throw new HotProtocolException("the " + what + " is longer than " + maxLength + " bytes");
            }
            fill(channel, maxLength);
        }
    }

    /**
     * Reads more bytes after {@code end}, first making room by moving the unconsumed bytes to the front or, if they
     * fill the buffer, by growing it up to {@code maxUnconsumed} (only a head or trailer section needs that).
     *
     * @throws HotConnectionException at end of stream
     */
    private void fill(ReadableByteChannel channel, int maxUnconsumed) throws IOException {
        if (end == buf.length) {
            int unconsumed = end - start;
            if (start > 0) {
                System.arraycopy(buf, start, buf, 0, unconsumed);
            } else {
                buf = Arrays.copyOf(buf, Math.max(buf.length, Math.min(2 * buf.length, maxUnconsumed)));
                bufView = ByteBuffer.wrap(buf);
            }
            start = 0;
            end = unconsumed;
        }
        bufView.limit(buf.length).position(end);
        end += readSome(channel, bufView);
    }

    /** One read of at least one byte; end of stream before the response is complete means the peer gave up. */
    private int readSome(ReadableByteChannel channel, ByteBuffer into) throws IOException {
        int n = channel.read(into);
        if (n < 0) {
            throw new HotConnectionException(receivedAny
                    ? "the instance closed the connection before the response was complete"
                    : "the instance closed the connection without responding", null, !receivedAny);
        }
        receivedAny = true;
        return n;
    }

    /** @return the end of the line ending at the LF at {@code lf}, without a CR before it */
    private int trimCr(int lineStart, int lf) {
        return lf > lineStart && buf[lf - 1] == '\r' ? lf - 1 : lf;
    }

    /** A short, printable excerpt of bad bytes for an error message (which ends up in the call's record). */
    private String printable(int from, int to) {
        StringBuilder out = new StringBuilder();
        for (int i = from; i < Math.min(to, from + 80); i++) {
            int c = buf[i] & 0xff;
            if (c >= 0x20 && c < 0x7f) {
                out.append((char) c);
            } else {
                out.append(String.format("\\x%02x", c));
            }
        }
        return to - from > 80 ? out + "..." : out.toString();
    }
}
