package io.granda.core.internal.hot;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A hand-written hot function for tests: listens on a real unix socket and runs a {@link Script} for every
 * connection, which reads requests and writes raw bytes, so a test can send exactly the malformed things it wants.
 * Each connection is served on its own thread. Failures inside scripts are kept and rethrown by {@link #close()}, so
 * a broken script fails its test. Thread-safe.
 */
final class FakeHotServer implements AutoCloseable {

    /** What the server does with one connection. */
    @FunctionalInterface
    interface Script {
        void serve(Peer peer) throws Exception;
    }

    /** One request as the server received it. */
    record Received(byte[] raw, String method, String target, List<HotHeader> headers, byte[] body) {

        String rawText() {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }
    }

    private final Path socket;
    private final ServerSocketChannel listener;
    private final Script script;
    private final boolean platformThreads;
    private final Thread acceptor;
    private final Queue<SocketChannel> accepted = new ConcurrentLinkedQueue<>();
    private final Queue<Thread> workers = new ConcurrentLinkedQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean closing;

    private FakeHotServer(Path socket, Script script, boolean platformThreads) throws IOException {
        this.socket = socket;
        this.script = script;
        this.platformThreads = platformThreads;
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket), 1024);
        acceptor = Thread.ofPlatform().daemon().name("fake-hot-acceptor").start(this::acceptLoop);
    }

    /** Starts a server on {@code dir/fn.sock} serving each connection on a virtual thread. */
    static FakeHotServer start(Path dir, Script script) throws IOException {
        return new FakeHotServer(dir.resolve("fn.sock"), script, false);
    }

    /** As {@link #start}, but on platform threads: steadier latency for measurements. */
    static FakeHotServer startOnPlatformThreads(Path dir, Script script) throws IOException {
        return new FakeHotServer(dir.resolve("fn.sock"), script, true);
    }

    /** A script that answers every request with its body, {@code 200}, and the target in {@code X-Target}. */
    static Script echo() {
        return peer -> {
            Received request;
            while ((request = peer.readRequest()) != null) {
                peer.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Target: " + request.target()
                        + "\r\nContent-Length: " + request.body().length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1),
                        request.body());
            }
        };
    }

    Path socket() {
        return socket;
    }

    /** @return how many connections were accepted so far */
    int connections() {
        return connections.get();
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (IOException e) {
                if (!closing) {
                    failure.compareAndSet(null, e);
                }
                return;
            }
            connections.incrementAndGet();
            accepted.add(channel);
            Runnable serve = () -> {
                try (SocketChannel c = channel) {
                    script.serve(new Peer(c));
                } catch (ClosedChannelException e) {
                    // The test closed the server, or the client went away while the script wrote: both expected.
                } catch (Throwable t) {
                    if (!closing && !(t instanceof IOException)) {
                        failure.compareAndSet(null, t);
                    }
                }
            };
            workers.add(platformThreads
                    ? Thread.ofPlatform().daemon().name("fake-hot-conn").start(serve)
                    : Thread.ofVirtual().name("fake-hot-conn").start(serve));
        }
    }

    /** Closes the listener and every connection, waits for the scripts, rethrows the first script failure. */
    @Override
    public void close() throws Exception {
        closing = true;
        listener.close();
        for (SocketChannel channel : accepted) {
            channel.close();
        }
        acceptor.join(TimeUnit.SECONDS.toMillis(10));
        for (Thread worker : workers) {
            worker.join(TimeUnit.SECONDS.toMillis(10));
        }
        Files.deleteIfExists(socket);
        Throwable t = failure.get();
        if (t instanceof Exception e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    /** The server's side of one connection, as a script sees it. */
    static final class Peer {

        private final SocketChannel channel;
        private final ByteBuffer in = ByteBuffer.allocate(256 * 1024).flip();

        private Peer(SocketChannel channel) {
            this.channel = channel;
        }

        /** @return the next request, or null when the client closed the connection between requests */
        Received readRequest() throws IOException {
            int headEnd;
            while ((headEnd = indexOfHeadEnd()) < 0) {
                if (!readMore()) {
                    if (in.hasRemaining()) {
                        throw new IOException("the client closed the connection in the middle of a request head");
                    }
                    return null;
                }
            }
            byte[] head = new byte[headEnd - in.position()];
            in.get(head);
            String[] lines = new String(head, StandardCharsets.ISO_8859_1).split("\r\n");
            String[] requestLine = lines[0].split(" ");
            List<HotHeader> headers = new ArrayList<>();
            int contentLength = 0;
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                HotHeader header = new HotHeader(lines[i].substring(0, colon), lines[i].substring(colon + 1).strip());
                headers.add(header);
                if (header.name().toLowerCase(Locale.ROOT).equals("content-length")) {
                    contentLength = Integer.parseInt(header.value());
                }
            }
            byte[] body = new byte[contentLength];
            int got = 0;
            while (got < contentLength) {
                if (!in.hasRemaining() && !readMore()) {
                    throw new IOException("the client closed the connection in the middle of a request body");
                }
                int n = Math.min(in.remaining(), contentLength - got);
                in.get(body, got, n);
                got += n;
            }
            byte[] raw = Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, raw, head.length, body.length);
            return new Received(raw, requestLine[0], requestLine[1], headers, body);
        }

        /** Writes bytes, all of them. */
        void write(byte[]... parts) throws IOException {
            ByteBuffer[] buffers = new ByteBuffer[parts.length];
            long total = 0;
            for (int i = 0; i < parts.length; i++) {
                buffers[i] = ByteBuffer.wrap(parts[i]);
                total += parts[i].length;
            }
            while (total > 0) {
                total -= channel.write(buffers);
            }
        }

        /** Writes ISO-8859-1 text. */
        void write(String text) throws IOException {
            write(text.getBytes(StandardCharsets.ISO_8859_1));
        }

        /** Stops writing for a moment, so that the client's read returns what came so far. */
        void pause() throws InterruptedException {
            Thread.sleep(20);
        }

        /**
         * Sends nothing more and waits until the client closes the connection (or 20 s pass): a stalled
         * function.
         */
        void stallUntilClientCloses() throws IOException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            in.clear();
            try {
                while (System.nanoTime() < deadline) {
                    in.clear();
                    if (channel.read(in) < 0) {
                        return;
                    }
                }
            } catch (IOException e) {
                // A reset from the client's close is as good as an EOF.
            } finally {
                in.position(0).limit(0);
            }
        }

        /** Closes the connection now. */
        void close() throws IOException {
            channel.close();
        }

        private boolean readMore() throws IOException {
            in.compact();
            try {
                return channel.read(in) >= 0;
            } finally {
                in.flip();
            }
        }

        private int indexOfHeadEnd() {
            for (int i = in.position(); i + 3 < in.limit(); i++) {
                if (in.get(i) == '\r' && in.get(i + 1) == '\n' && in.get(i + 2) == '\r' && in.get(i + 3) == '\n') {
                    return i + 4;
                }
            }
            return -1;
        }
    }
}
