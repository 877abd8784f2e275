package io.granda.bench;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's client against a scripted server on a unix socket and on TCP loopback. */
class MiniHttpClientTest {

    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** Requests the scripted server has read, over all its connections. */
    private final AtomicInteger requests = new AtomicInteger();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    /**
     * Serves every connection on its own thread: for each request read, writes {@code answer.apply(n)} (n counts
     * requests from 1 over all connections); a null answer closes the connection without answering.
     */
    private void serve(ServerSocketChannel server, IntFunction<String> answer) {
        toClose.add(server);
        Thread.ofPlatform().daemon(true).start(() -> {
            while (server.isOpen()) {
                SocketChannel c;
                try {
                    c = server.accept();
                } catch (IOException e) {
                    return;
                }
                Thread.ofPlatform().daemon(true).start(() -> {
                    try (c) {
                        ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                        while (true) {
                            if (!readRequest(c, in)) {
                                return;
                            }
                            String reply = answer.apply(requests.incrementAndGet());
                            if (reply == null) {
                                return;
                            }
                            ByteBuffer out = ByteBuffer.wrap(reply.getBytes(StandardCharsets.ISO_8859_1));
                            while (out.hasRemaining()) {
                                c.write(out);
                            }
                            if (reply.contains("Connection: close")) {
                                return;
                            }
                        }
                    } catch (IOException ignored) {
                        // The client went away.
                    }
                });
            }
        });
    }

    /** Reads one request (head and Content-Length body); false at end of stream. */
    private static boolean readRequest(SocketChannel c, ByteBuffer in) throws IOException {
        in.clear();
        while (true) {
            if (c.read(in) < 0) {
                return false;
            }
            String s = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
            int end = s.indexOf("\r\n\r\n");
            if (end >= 0) {
                int at = s.toLowerCase().indexOf("content-length:");
                int length = at < 0 ? 0 : Integer.parseInt(s.substring(at + 15, s.indexOf("\r\n", at)).strip());
                if (in.position() >= end + 4 + length) {
                    return true;
                }
            }
        }
    }

    private static String ok(String body, String... headers) {
        return "HTTP/1.1 200 OK\r\n" + String.join("", headers) + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    private MiniHttpClient unixServer(IntFunction<String> answer) throws IOException {
        Path socket = dir.resolve("s.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        serve(server, answer);
        MiniHttpClient client = MiniHttpClient.unix(socket).request("POST", "/", "granda", HELLO);
        toClose.add(client);
        return client;
    }

    @Test
    void keepsTheConnectionAndReadsStatusBodyAndHeaders() throws IOException {
        MiniHttpClient client = unixServer(n -> ok("hello", "X-Echo-Revision: " + n + "\r\n"));
        assertEquals(200, client.call());
        assertTrue(client.bodyEquals(HELLO));
        assertEquals("1", client.header("x-echo-revision"));
        assertEquals(200, client.call());
        assertEquals("hello", client.body());
        assertEquals("2", client.header("X-Echo-Revision"));
        assertNull(client.header("X-Missing"));
        assertFalse(client.bodyEquals("hellO".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(1, client.connects());
    }

    @Test
    void reconnectsAfterConnectionClose() throws IOException {
        MiniHttpClient client = unixServer(n -> ok("x", "Connection: close\r\n"));
        client.call();
        client.call();
        assertEquals(2, client.connects());
        assertEquals(2, requests.get());
    }

    @Test
    void sendsTheRequestAgainOnceWhenAKeptConnectionWasClosedWhileIdle() throws IOException {
        // The second request finds the connection closed without an answer, as a server's idle timeout would leave it.
        MiniHttpClient client = unixServer(n -> n == 2 ? null : ok("hello"));
        client.call();
        assertEquals(200, client.call());
        assertEquals(2, client.connects());
        assertEquals(3, requests.get());
    }

    @Test
    void growsItsBufferForALargeBody() throws IOException {
        String big = "x".repeat(100_000);
        MiniHttpClient client = unixServer(n -> ok(big));
        client.call();
        assertEquals(100_000, client.bodyLength());
        assertEquals(big, client.body());
    }

    @Test
    void refusesAResponseItCannotDelimit() throws IOException {
        MiniHttpClient client = unixServer(n -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertThrows(IOException.class, client::call);
    }

    @Test
    void worksOverTcpLoopback() throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        serve(server, n -> "HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno");
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        try (MiniHttpClient client = MiniHttpClient.tcp("127.0.0.1", port)
                .request("GET", "/f/x", "127.0.0.1:" + port, new byte[0])) {
            assertEquals(404, client.call());
            assertEquals("no", client.body());
        }
    }
}
