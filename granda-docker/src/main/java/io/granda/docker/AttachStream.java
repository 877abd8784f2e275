package io.granda.docker;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One container's attach stream ({@code POST /containers/{id}/attach}, upgraded to a raw stream) on a connection of
 * its own: the payload goes in as stdin, stdout and stderr come back multiplexed.
 *
 * <p>Why not docker-java's attach: its httpclient5 transport writes stdin on the hijacked connection but never
 * half-closes it (its unix sockets refuse {@code shutdownOutput()}), so the process never sees end-of-file on stdin
 * and a function that reads it hangs until its timeout. Docker ends the container's stdin (with {@code StdinOnce})
 * when the client half-closes, exactly as the {@code docker} CLI does with {@code CloseWrite()}; this class does the
 * same. A connection outside docker-java's pool also means a long run never holds a pooled connection, and no
 * platform threads are spent per call.
 *
 * <p>Thread-safety: one thread may {@link #sendStdin(byte[]) send stdin} while another
 * {@link #copyOutput(OutputStream, OutputStream) copies the output}; {@link #close()} may be called from any thread
 * and unblocks both.
 */
final class AttachStream implements Closeable {

    private static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final int MAX_ERROR_BODY_BYTES = 4 * 1024;
    private static final Pattern MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final InputStream in;
    private final OutputStream out;
    private final Connection connection;

    private AttachStream(Connection connection) throws IOException {
        this.connection = connection;
        this.in = new BufferedInputStream(connection.input(), 16 * 1024);
        this.out = connection.output();
    }

    /**
     * Connects to the engine and attaches to a created (not yet started) container, so that no output is missed.
     *
     * @param dockerHost     {@code unix:///path} or {@code tcp://host:port}
     * @param containerId    the container
     * @param connectTimeout longest wait for a TCP connection
     * @return the attached stream
     * @throws IOException when the engine cannot be reached or refuses the attach (the message says why)
     */
    static AttachStream open(URI dockerHost, String containerId, Duration connectTimeout) throws IOException {
        Connection connection = Connection.open(dockerHost, connectTimeout);
        try {
            AttachStream stream = new AttachStream(connection);
            stream.upgrade(dockerHost, containerId);
            return stream;
        } catch (IOException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private void upgrade(URI dockerHost, String containerId) throws IOException {
        String hostHeader = "tcp".equals(dockerHost.getScheme())
                ? dockerHost.getHost() + ":" + dockerHost.getPort() : "docker";
        String request = "POST /containers/" + containerId + "/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                + "Host: " + hostHeader + "\r\n"
                + "User-Agent: granda\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Length: 0\r\n"
                + "Connection: Upgrade\r\n"
                + "Upgrade: tcp\r\n"
                + "\r\n";
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();

        String statusLine = readLine();
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("unexpected answer to attach: '" + statusLine + "'");
        }
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("unexpected answer to attach: '" + statusLine + "'", e);
        }
        long contentLength = -1;
        boolean chunked = false;
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (name.equals("content-length")) {
                try {
                    contentLength = Long.parseLong(value);
                } catch (NumberFormatException ignored) {
                    // Only used to read an error message; reading to the end of the stream works too.
                }
            } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                chunked = true;
            }
        }
        // 101 is the answer to our Upgrade; engines that predate it answer 200 and hijack the connection anyway.
        if (status != 101 && status != 200) {
            if (chunked) {
                // The error fits in the first chunk; reading on would wait for a keep-alive connection to close.
                contentLength = firstChunkLength();
            }
            throw new IOException("engine refused to attach to container " + containerId + ": HTTP " + status + ": "
                    + errorMessage(contentLength));
        }
    }

    private long firstChunkLength() throws IOException {
        String sizeLine = readLine();
        int extension = sizeLine.indexOf(';');
        try {
            return Long.parseLong((extension < 0 ? sizeLine : sizeLine.substring(0, extension)).trim(), 16);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int total = 0;
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("engine closed the attach connection during the handshake");
            }
            if (++total > MAX_HEADER_BYTES) {
                throw new IOException("attach response header too long");
            }
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    private String errorMessage(long contentLength) throws IOException {
        int limit = (int) (contentLength < 0 ? MAX_ERROR_BODY_BYTES : Math.min(contentLength, MAX_ERROR_BODY_BYTES));
        String body = new String(in.readNBytes(limit), StandardCharsets.UTF_8).strip();
        Matcher m = MESSAGE.matcher(body);
        return m.find() ? m.group(1).replace("\\\"", "\"").replace("\\\\", "\\") : body;
    }

    /**
     * Writes the payload to the process's stdin, then ends stdin (half-close) so that the process sees end-of-file.
     * Blocks while the engine does not take the bytes, e.g. a large payload and a process that does not read stdin;
     * closing the stream unblocks it.
     *
     * @param payload the bytes to send; may be empty, which only ends stdin
     * @throws IOException when the connection broke or was closed, e.g. because the process exited without reading
     */
    void sendStdin(byte[] payload) throws IOException {
        if (payload.length > 0) {
            out.write(payload);
            out.flush();
        }
        connection.shutdownOutput();
    }

    /**
     * Copies the process's output until the engine ends the stream, which it does when the process has exited (or
     * the container was removed). Docker multiplexes the streams when there is no TTY: each frame is an 8-byte
     * header (stream type, three zero bytes, a big-endian uint32 length) and the payload.
     *
     * @param stdout receives stdout frames
     * @param stderr receives stderr frames (and any error the engine reports on the stream)
     * @throws IOException when the connection broke or was closed before the end of the stream
     */
    void copyOutput(OutputStream stdout, OutputStream stderr) throws IOException {
        byte[] header = new byte[8];
        byte[] chunk = new byte[16 * 1024];
        while (readHeader(header)) {
            OutputStream sink = header[0] == 2 || header[0] == 3 ? stderr : stdout;
            long remaining = ((header[4] & 0xFFL) << 24) | ((header[5] & 0xFFL) << 16) | ((header[6] & 0xFFL) << 8)
                    | (header[7] & 0xFFL);
            while (remaining > 0) {
                int n = in.read(chunk, 0, (int) Math.min(chunk.length, remaining));
                if (n < 0) {
                    throw new EOFException("attach stream ended inside a frame");
                }
                sink.write(chunk, 0, n);
                remaining -= n;
            }
        }
    }

    /** @return false at a clean end of the stream (between frames) */
    private boolean readHeader(byte[] header) throws IOException {
        int read = 0;
        while (read < header.length) {
            int n = in.read(header, read, header.length - read);
            if (n < 0) {
                if (read == 0) {
                    return false;
                }
                throw new EOFException("attach stream ended inside a frame header");
            }
            read += n;
        }
        return true;
    }

    /** Closes the connection; blocked reads and writes end with an {@link IOException}. Idempotent. */
    @Override
    public void close() {
        connection.close();
    }

    /** The two transports an engine listens on, reduced to what an attach needs, half-close included. */
    private sealed interface Connection {

        static Connection open(URI dockerHost, Duration connectTimeout) throws IOException {
            return switch (dockerHost.getScheme()) {
                case "unix" -> {
                    // Connecting to a local socket does not wait on a network, so it needs no timeout of its own.
                    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                    try {
                        channel.connect(UnixDomainSocketAddress.of(dockerHost.getPath()));
                    } catch (IOException e) {
                        channel.close();
                        throw new IOException("cannot connect to " + dockerHost + ": " + e.getMessage(), e);
                    }
                    yield new UnixConnection(channel);
                }
                case "tcp" -> {
                    Socket socket = new Socket();
                    try {
                        socket.setTcpNoDelay(true);
                        socket.connect(new InetSocketAddress(dockerHost.getHost(), dockerHost.getPort()),
                                (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
                    } catch (IOException e) {
                        socket.close();
                        throw new IOException("cannot connect to " + dockerHost + ": " + e.getMessage(), e);
                    }
                    yield new TcpConnection(socket);
                }
                default -> throw new IOException("unsupported docker host " + dockerHost);
            };
        }

        InputStream input() throws IOException;

        OutputStream output() throws IOException;

        void shutdownOutput() throws IOException;

        void close();
    }

    private record UnixConnection(SocketChannel channel) implements Connection {
        @Override
        public InputStream input() {
            return Channels.newInputStream(channel);
        }

        @Override
        public OutputStream output() {
            return Channels.newOutputStream(channel);
        }

        @Override
        public void shutdownOutput() throws IOException {
            channel.shutdownOutput();
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Nothing left to release.
            }
        }
    }

    private record TcpConnection(Socket socket) implements Connection {
        @Override
        public InputStream input() throws IOException {
            return socket.getInputStream();
        }

        @Override
        public OutputStream output() throws IOException {
            return socket.getOutputStream();
        }

        @Override
        public void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Nothing left to release.
            }
        }
    }
}
