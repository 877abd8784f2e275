package io.granda.testkit;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately small HTTP/1.1 client for one keep-alive connection to a hot instance's unix socket, so that the
 * contract tests see exactly what the instance sends, with nothing of Granda's own invoker in between. Requests carry
 * {@code Content-Length}; responses may be framed by {@code Content-Length}, {@code Transfer-Encoding: chunked} or the
 * end of the connection. No pipelining: one request, then its response.
 *
 * <p>Not thread-safe: one request at a time; {@link #close()} may be called from another thread to abort.
 */
public final class HotSocketClient implements AutoCloseable {

    private static final int MAX_HEAD_BYTES = 64 * 1024;

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(16 * 1024).flip();

    private HotSocketClient(SocketChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
    }

    /**
     * Connects to a unix socket.
     *
     * @param socket the socket's path on this host
     * @return the connected client
     * @throws IOException when nothing accepts connections there
     */
    public static HotSocketClient connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.configureBlocking(false);
            Selector selector = Selector.open();
            return new HotSocketClient(channel, selector);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** @return whether something accepts a connection on this socket now (the connection is closed at once) */
    public static boolean accepts(Path socket) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A GET without headers or body, waiting at most 10 s.
     *
     * @see #send(String, String, Map, byte[], Duration)
     */
    public HotHttpResponse get(String target) throws IOException {
        return send("GET", target, Map.of(), new byte[0], Duration.ofSeconds(10));
    }

    /**
     * Sends one request and reads its response.
     *
     * @param method  e.g. {@code POST}
     * @param target  path and query, e.g. {@code /orders/42?expand=items}
     * @param headers extra headers ({@code Host} and {@code Content-Length} are added)
     * @param body    the body, possibly empty
     * @param timeout longest to wait for the whole exchange
     * @return the response
     * @throws EOFException           when the instance closed the connection before a complete response
     * @throws SocketTimeoutException when the response did not arrive in time
     * @throws IOException            when the connection fails otherwise, or the response is not HTTP/1.1
     */
    public HotHttpResponse send(String method, String target, Map<String, String> headers, byte[] body,
            Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: granda\r\n")
                .append("Content-Length: ").append(body.length).append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(headBytes.length + body.length).put(headBytes).put(body).flip();
        write(out, deadline);
        return readResponse(method, deadline);
    }

    private void write(ByteBuffer out, long deadline) throws IOException {
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    private HotHttpResponse readResponse(String method, long deadline) throws IOException {
        String statusLine = readLine(deadline);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].equals("HTTP/1.1") || !parts[1].matches("\\d{3}")) {
            throw new IOException("not an HTTP/1.1 status line: '" + statusLine + "'");
        }
        int status = Integer.parseInt(parts[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        int headBytes = statusLine.length();
        for (String line = readLine(deadline); !line.isEmpty(); line = readLine(deadline)) {
            headBytes += line.length();
            if (headBytes > MAX_HEAD_BYTES) {
                throw new IOException("response head longer than " + MAX_HEAD_BYTES + " bytes");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed header line: '" + line + "'");
            }
            headers.computeIfAbsent(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).strip());
        }
        byte[] body;
        String length = first(headers, "content-length");
        String encoding = first(headers, "transfer-encoding");
        if (method.equals("HEAD") || status / 100 == 1 || status == 204 || status == 304) {
            body = new byte[0];
        } else if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            body = readChunked(deadline);
        } else if (length != null) {
            body = readExactly(Integer.parseInt(length.strip()), deadline);
        } else {
            body = readToEnd(deadline);
        }
        return new HotHttpResponse(status, headers, body);
    }

    private byte[] readChunked(long deadline) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine(deadline);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
            if (size == 0) {
                // Trailers, then the empty line.
                while (!readLine(deadline).isEmpty()) {
                    // skip
                }
                return body.toByteArray();
            }
            body.writeBytes(readExactly(size, deadline));
            if (!readLine(deadline).isEmpty()) {
                throw new IOException("chunk not followed by CRLF");
            }
        }
    }

    private byte[] readExactly(int n, long deadline) throws IOException {
        byte[] out = new byte[n];
        int filled = 0;
        while (filled < n) {
            if (!readBuffer.hasRemaining() && !fill(deadline)) {
                throw new EOFException("connection closed after " + filled + " of " + n + " body bytes");
            }
            int take = Math.min(n - filled, readBuffer.remaining());
            readBuffer.get(out, filled, take);
            filled += take;
        }
        return out;
    }

    private byte[] readToEnd(long deadline) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (readBuffer.hasRemaining() || fill(deadline)) {
            byte[] chunk = new byte[readBuffer.remaining()];
            readBuffer.get(chunk);
            body.writeBytes(chunk);
        }
        return body.toByteArray();
    }

    /** Reads one CRLF-terminated line (without the CRLF), as ISO-8859-1. */
    private String readLine(long deadline) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            if (!readBuffer.hasRemaining() && !fill(deadline)) {
                throw new EOFException("connection closed before a complete response"
                        + (line.isEmpty() ? "" : " (in the middle of '" + line + "')"));
            }
            char c = (char) (readBuffer.get() & 0xff);
            if (c == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            line.append(c);
            if (line.length() > MAX_HEAD_BYTES) {
                throw new IOException("line longer than " + MAX_HEAD_BYTES + " bytes");
            }
        }
    }

    /** @return false at the end of the connection */
    private boolean fill(long deadline) throws IOException {
        readBuffer.compact();
        try {
            while (true) {
                int n = channel.read(readBuffer);
                if (n < 0) {
                    return false;
                }
                if (n > 0) {
                    return true;
                }
                await(SelectionKey.OP_READ, deadline);
            }
        } finally {
            readBuffer.flip();
        }
    }

    private void await(int operation, long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("no response within the timeout");
        }
        try {
            SelectionKey key = channel.register(selector, operation);
            selector.select(Math.max(1, left / 1_000_000));
            key.interestOps(0);
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException | CancelledKeyException e) {
            // close() from another thread.
            AsynchronousCloseException closed = new AsynchronousCloseException();
            closed.initCause(e);
            throw closed;
        }
    }

    private static String first(Map<String, List<String>> headers, String name) {
        List<String> values = headers.get(name);
        return values == null ? null : values.getFirst();
    }

    /** Closes the connection; a request under way on another thread fails. Idempotent. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a unix socket cannot fail in a way that matters to a test.
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // As above.
        }
    }
}
