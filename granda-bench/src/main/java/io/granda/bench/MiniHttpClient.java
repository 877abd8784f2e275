package io.granda.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A minimal blocking HTTP/1.1 client on one keep-alive connection, over TCP or a unix socket, that sends one fixed
 * request again and again and reads each response's status and {@code Content-Length} body.
 *
 * <p>It exists so that a call through Granda's URL (TCP) and a call straight to the function's unix socket pay the
 * same client cost: the request is encoded once into a direct buffer, the response is read into another direct buffer
 * that is kept, and a call allocates nothing. {@code java.net.http.HttpClient} costs tens of microseconds and several
 * objects per call, as much as what is being measured.
 *
 * <p>Supported: responses delimited by {@code Content-Length} (what Granda and the hot echo function send), keep-alive,
 * {@code Connection: close} (the next call reconnects), and a kept-alive connection the server closed while idle
 * (the request is sent again once on a new connection when no byte of an answer came back). Not supported: chunked
 * bodies, interim {@code 1xx} answers, pipelining.
 *
 * <p>Not thread-safe: one caller at a time, as one connection carries one exchange at a time.
 */
public final class MiniHttpClient implements AutoCloseable {

    private static final int INITIAL_BUFFER = 16 * 1024;
    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION = "connection".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE = "close".getBytes(StandardCharsets.US_ASCII);

    private final SocketAddress address;
    private SocketChannel channel;
    private ByteBuffer request = ByteBuffer.allocateDirect(0);
    private ByteBuffer in = ByteBuffer.allocateDirect(INITIAL_BUFFER);
    /** Index in {@link #in} of the first body byte (just past the blank line). */
    private int bodyStart;
    private int bodyLength;
    private int status;
    private boolean closeAfter;
    /** Whether a byte of the current exchange's answer has arrived. */
    private boolean answering;
    private long connects;

    private MiniHttpClient(SocketAddress address) {
        this.address = Objects.requireNonNull(address);
    }

    /** @return a client of {@code host:port} over TCP (with {@code TCP_NODELAY}); connects on the first call */
    public static MiniHttpClient tcp(String host, int port) {
        return new MiniHttpClient(new InetSocketAddress(host, port));
    }

    /** @return a client of the unix socket at {@code socket}; connects on the first call */
    public static MiniHttpClient unix(Path socket) {
        return new MiniHttpClient(UnixDomainSocketAddress.of(socket));
    }

    /**
     * Sets the request every {@link #call()} sends.
     *
     * @param method  e.g. POST
     * @param target  the request target, e.g. {@code /f/echo-xyz}
     * @param host    the Host header's value
     * @param body    the body; sent with a {@code Content-Length} and {@code Content-Type: text/plain}
     * @return this client
     */
    public MiniHttpClient request(String method, String target, String host, byte[] body) {
        String head = method + " " + target + " HTTP/1.1\r\n"
                + "Host: " + host + "\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocateDirect(headBytes.length + body.length);
        b.put(headBytes).put(body).flip();
        this.request = b;
        return this;
    }

    /** Opens the connection now (else the first call does), so that a timed call never pays for the connect. */
    public MiniHttpClient connect() throws IOException {
        if (channel == null) {
            open();
        }
        return this;
    }

    private void open() throws IOException {
        SocketChannel c = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        try {
            if (!(address instanceof UnixDomainSocketAddress)) {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            c.connect(address);
        } catch (IOException e) {
            c.close();
            throw e;
        }
        channel = c;
        connects++;
    }

    /**
     * Sends the request and reads the whole response.
     *
     * @return the response's status
     * @throws IOException when the connection fails, or the response is not HTTP/1.x with a Content-Length body
     */
    public int call() throws IOException {
        boolean fresh = channel == null;
        if (fresh) {
            open();
        }
        try {
            exchange();
        } catch (IOException e) {
            // A kept-alive connection the server closed while idle fails the write (broken pipe), or the read at
            // once (end of stream, reset) with nothing of an answer: nothing ran, so the request goes once more on
            // a new connection.
            if (fresh || !(e instanceof EOFException || in.position() == 0 && !answering)) {
                throw e;
            }
            closeChannel();
            open();
            exchange();
        }
        if (closeAfter) {
            closeChannel();
        }
        return status;
    }

    private void exchange() throws IOException {
        answering = false;
        in.clear();
        ByteBuffer req = request;
        req.rewind();
        while (req.hasRemaining()) {
            channel.write(req);
        }
        int headEnd = -1;
        int scanFrom = 0;
        while (headEnd < 0) {
            readMore(true);
            headEnd = findHeadEnd(scanFrom, in.position());
            scanFrom = Math.max(0, in.position() - 3);
        }
        parseHead(headEnd);
        int needed = bodyStart + bodyLength;
        while (in.position() < needed) {
            readMore(false);
        }
        if (in.position() > needed) {
            throw new IOException("the server sent " + (in.position() - needed) + " bytes after the response");
        }
    }

    /** Reads at least one byte, growing the buffer when it is full. */
    private void readMore(boolean head) throws IOException {
        if (!in.hasRemaining()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(in.capacity() * 2);
            in.flip();
            bigger.put(in);
            in = bigger;
        }
        int n = channel.read(in);
        if (n > 0) {
            answering = true;
        }
        if (n < 0) {
            if (head && in.position() == 0) {
                throw new EOFException("the server closed the connection before answering");
            }
            throw new IOException("the server closed the connection in the middle of a response");
        }
    }

    /** @return the index just past CRLF CRLF, or -1 */
    private int findHeadEnd(int from, int to) {
        for (int i = from; i + 3 < to; i++) {
            if (in.get(i) == '\r' && in.get(i + 1) == '\n' && in.get(i + 2) == '\r' && in.get(i + 3) == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    private void parseHead(int headEnd) throws IOException {
        // "HTTP/1.1 200 ..."
        if (headEnd < 16 || in.get(0) != 'H' || in.get(4) != '/' || in.get(8) != ' ') {
            throw new IOException("not an HTTP/1.x status line: " + ascii(0, Math.min(headEnd, 40)));
        }
        status = (in.get(9) - '0') * 100 + (in.get(10) - '0') * 10 + (in.get(11) - '0');
        boolean http10 = in.get(7) == '0';
        closeAfter = http10;
        int contentLength = -1;
        int line = lineEnd(0, headEnd) + 2;
        while (line < headEnd - 2) {
            int end = lineEnd(line, headEnd);
            int colon = indexOf(':', line, end);
            if (colon > 0) {
                int value = colon + 1;
                while (value < end && (in.get(value) == ' ' || in.get(value) == '\t')) {
                    value++;
                }
                if (nameIs(CONTENT_LENGTH, line, colon)) {
                    contentLength = parseDecimal(value, end);
                } else if (nameIs(CONNECTION, line, colon)) {
                    closeAfter = valueIs(CLOSE, value, end);
                } else if (nameIs(TRANSFER_ENCODING, line, colon)) {
                    throw new IOException("chunked responses are not supported by this client");
                }
            }
            line = end + 2;
        }
        if (contentLength < 0) {
            throw new IOException("response without Content-Length (status " + status + ")");
        }
        bodyStart = headEnd;
        bodyLength = contentLength;
    }

    private int lineEnd(int from, int limit) {
        for (int i = from; i + 1 < limit; i++) {
            if (in.get(i) == '\r' && in.get(i + 1) == '\n') {
                return i;
            }
        }
        return limit;
    }

    private int indexOf(char c, int from, int to) {
        for (int i = from; i < to; i++) {
            if (in.get(i) == c) {
                return i;
            }
        }
        return -1;
    }

    /** Case-insensitive comparison of a header name with a lower-case ASCII name. */
    private boolean nameIs(byte[] lower, int from, int to) {
        if (to - from != lower.length) {
            return false;
        }
        for (int i = 0; i < lower.length; i++) {
            int b = in.get(from + i);
            if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }
            if (b != lower[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean valueIs(byte[] lower, int from, int to) {
        while (to > from && (in.get(to - 1) == ' ' || in.get(to - 1) == '\t')) {
            to--;
        }
        return nameIs(lower, from, to);
    }

    private int parseDecimal(int from, int to) throws IOException {
        long v = 0;
        int i = from;
        for (; i < to && in.get(i) >= '0' && in.get(i) <= '9'; i++) {
            v = v * 10 + (in.get(i) - '0');
            if (v > Integer.MAX_VALUE) {
                throw new IOException("Content-Length too large");
            }
        }
        if (i == from) {
            throw new IOException("invalid Content-Length: " + ascii(from, to));
        }
        return (int) v;
    }

    private String ascii(int from, int to) {
        byte[] b = new byte[to - from];
        in.get(from, b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** @return the last response's status */
    public int status() {
        return status;
    }

    /** @return the last response's body length */
    public int bodyLength() {
        return bodyLength;
    }

    /** @return whether the last response's body is exactly these bytes; allocates nothing */
    public boolean bodyEquals(byte[] expected) {
        if (expected.length != bodyLength) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (in.get(bodyStart + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** @return the last response's body as UTF-8 text (allocates: for checks, not for timed loops) */
    public String body() {
        byte[] b = new byte[bodyLength];
        in.get(bodyStart, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /**
     * @param name a header name, any case
     * @return the first value of that header in the last response, null when absent (allocates: for checks, not for
     *         timed loops)
     */
    public String header(String name) {
        byte[] lower = name.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
        int headEnd = bodyStart;
        int line = lineEnd(0, headEnd) + 2;
        while (line < headEnd - 2) {
            int end = lineEnd(line, headEnd);
            int colon = indexOf(':', line, end);
            if (colon > 0 && nameIs(lower, line, colon)) {
                return ascii(colon + 1, end).strip();
            }
            line = end + 2;
        }
        return null;
    }

    /** @return how many connections this client has opened (1 while keep-alive holds) */
    public long connects() {
        return connects;
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // The descriptor is released whatever close reports.
            }
            channel = null;
        }
    }

    @Override
    public void close() {
        closeChannel();
    }

    @Override
    public String toString() {
        return "MiniHttpClient[" + address + "]";
    }
}
