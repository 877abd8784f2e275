package io.granda.core.internal.hot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.granda.core.internal.hot.HotConnectionTest.MAX_BODY;
import static io.granda.core.internal.hot.HotConnectionTest.canned;
import static io.granda.core.internal.hot.HotConnectionTest.get;
import static io.granda.core.internal.hot.HotConnectionTest.in;
import static io.granda.core.internal.hot.HotConnectionTest.post;
import static io.granda.core.internal.hot.HotConnectionTest.soon;
import static io.granda.core.internal.hot.HotConnectionTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How each way an exchange can fail is told apart, and that a failed connection is never reused. */
class HotConnectionFailureTest {

    /** Generous bound for a 200 ms deadline: asserts promptness, not precision. */
    private static final long PROMPT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final Duration DEADLINE = Duration.ofMillis(200);

    @TempDir
    Path dir;

    private static void assertUnusable(HotConnection connection) {
        assertFalse(connection.reusable());
        assertThrows(IllegalStateException.class, () -> connection.exchange(get("/"), soon(), MAX_BODY));
    }

    /** Exchanges once against a server that answers {@code response} and returns the failure. */
    private HotExchangeException failureFor(String response) throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4), response));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotExchangeException failure = assertThrows(HotExchangeException.class,
                    () -> connection.exchange(get("/"), soon(), MAX_BODY));
            assertUnusable(connection);
            return failure;
        }
    }

    // --- deadlines ---

    private void assertTimesOut(FakeHotServer.Script script, boolean onVirtualThread) throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, script);
             HotConnection connection = HotConnection.open(server.socket())) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            long started = System.nanoTime();
            Runnable exchange = () -> thrown.set(assertThrows(Throwable.class,
                    () -> connection.exchange(post("/", "x"), in(DEADLINE), MAX_BODY)));
            if (onVirtualThread) {
                Thread.ofVirtual().start(exchange).join();
            } else {
                exchange.run();
            }
            long took = System.nanoTime() - started;
            assertInstanceOf(HotTimeoutException.class, thrown.get());
            assertTrue(took < PROMPT_NANOS, "took " + took / 1_000_000 + " ms");
            assertUnusable(connection);
        }
    }

    @Test
    void aServerThatNeverAnswersTimesOut() throws Exception {
        assertTimesOut(peer -> {
            peer.readRequest();
            peer.stallUntilClientCloses();
        }, false);
    }

    @Test
    void aServerStallingMidHeadTimesOut() throws Exception {
        assertTimesOut(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nContent-Le");
            peer.stallUntilClientCloses();
        }, false);
    }

    @Test
    void aServerStallingMidBodyTimesOut() throws Exception {
        assertTimesOut(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
            peer.stallUntilClientCloses();
        }, false);
    }

    @Test
    void aServerStallingMidChunkTimesOut() throws Exception {
        assertTimesOut(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
            peer.stallUntilClientCloses();
        }, false);
    }

    @Test
    void aServerStallingMidBodyTimesOutOnAVirtualThread() throws Exception {
        assertTimesOut(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
            peer.stallUntilClientCloses();
        }, true);
    }

    @Test
    void aServerThatDoesNotReadTheRequestTimesOutTheWrite() throws Exception {
        // The body is larger than the socket buffers, so the write itself blocks until the deadline closes it.
        CountDownLatch done = new CountDownLatch(1);
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> done.await(20, TimeUnit.SECONDS));
             HotConnection connection = HotConnection.open(server.socket())) {
            long started = System.nanoTime();
            assertThrows(HotTimeoutException.class, () -> connection.exchange(
                    new HotRequest("POST", "/", List.of(), new byte[8 * 1024 * 1024]), in(DEADLINE), MAX_BODY));
            assertTrue(System.nanoTime() - started < PROMPT_NANOS);
            assertUnusable(connection);
            done.countDown();
        }
    }

    @Test
    void anEofDelimitedBodyThatNeverEndsTimesOut() throws Exception {
        assertTimesOut(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\n\r\nstreaming forever");
            peer.stallUntilClientCloses();
        }, false);
    }

    @Test
    void aDeadlineAlreadyPassedSendsNothing() throws Exception {
        ArrayBlockingQueue<FakeHotServer.Received> received = new ArrayBlockingQueue<>(4);
        try (FakeHotServer server = FakeHotServer.start(dir, canned(received, "HTTP/1.1 200 OK\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            assertThrows(HotTimeoutException.class,
                    () -> connection.exchange(get("/"), System.nanoTime() - 1, MAX_BODY));
            assertUnusable(connection);
            connection.close();
            TimeUnit.MILLISECONDS.sleep(50);
            assertNull(received.poll());
        }
    }

    @Test
    void oneStalledConnectionTimesOutWhileAnotherKeepsWorking() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            FakeHotServer.Received request;
            while ((request = peer.readRequest()) != null) {
                if (request.target().equals("/stall")) {
                    peer.stallUntilClientCloses();
                    return;
                }
                peer.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
             HotConnection stalled = HotConnection.open(server.socket());
             HotConnection working = HotConnection.open(server.socket())) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread stall = Thread.ofVirtual().start(() -> thrown.set(assertThrows(Throwable.class,
                    () -> stalled.exchange(get("/stall"), in(DEADLINE), MAX_BODY))));
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(400);
            int calls = 0;
            while (System.nanoTime() < until) {
                assertEquals("ok", text(working.exchange(get("/"), in(DEADLINE), MAX_BODY)));
                calls++;
            }
            stall.join();
            assertInstanceOf(HotTimeoutException.class, thrown.get());
            assertTrue(calls > 0);
            assertTrue(working.reusable());
            assertFalse(stalled.reusable());
        }
    }

    // --- the instance going away ---

    private void assertConnectionFailure(FakeHotServer.Script script, boolean beforeResponse) throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, script);
             HotConnection connection = HotConnection.open(server.socket())) {
            HotConnectionException failure = assertThrows(HotConnectionException.class,
                    () -> connection.exchange(post("/", "x"), soon(), MAX_BODY));
            assertEquals(beforeResponse, failure.beforeResponse(), failure.toString());
            assertUnusable(connection);
        }
    }

    @Test
    void closingWithoutAnsweringIsAConnectionFailureBeforeTheResponse() throws Exception {
        assertConnectionFailure(peer -> {
            peer.readRequest();
            peer.close();
        }, true);
    }

    @Test
    void closingWithoutReadingTheRequestIsAConnectionFailure() throws Exception {
        // Unread data at close makes the kernel reset the connection: a reset or an EOF, both are crashes.
        assertConnectionFailure(peer -> {
            Thread.sleep(50);
            peer.close();
        }, true);
    }

    @Test
    void closingMidHeadIsAConnectionFailure() throws Exception {
        assertConnectionFailure(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nContent-");
            peer.close();
        }, false);
    }

    @Test
    void closingMidBodyIsAConnectionFailure() throws Exception {
        assertConnectionFailure(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this");
            peer.close();
        }, false);
    }

    @Test
    void closingMidChunkedBodyIsAConnectionFailure() throws Exception {
        assertConnectionFailure(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            peer.close();
        }, false);
    }

    @Test
    void closingAfterTheLastChunkButBeforeTheTrailerEndIsAConnectionFailure() throws Exception {
        assertConnectionFailure(peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n");
            peer.close();
        }, false);
    }

    @Test
    void anIdleKeepAliveConnectionClosedByTheInstanceFailsBeforeTheResponse() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            peer.close();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            connection.exchange(get("/"), soon(), MAX_BODY);
            assertTrue(connection.reusable(), "nothing said the connection would close");
            TimeUnit.MILLISECONDS.sleep(50);
            HotConnectionException failure = assertThrows(HotConnectionException.class,
                    () -> connection.exchange(get("/"), soon(), MAX_BODY));
            assertTrue(failure.beforeResponse());
            assertEquals(1, connection.completedExchanges());
        }
    }

    @Test
    void connectingToAMissingSocketIsAConnectionFailure() {
        HotConnectionException failure = assertThrows(HotConnectionException.class,
                () -> HotConnection.open(dir.resolve("missing.sock")));
        assertTrue(failure.beforeResponse());
    }

    @Test
    void connectingToASocketNobodyListensOnIsAConnectionFailure() throws Exception {
        Path socket;
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> { })) {
            socket = server.socket();
        }
        // The server deleted its socket file; a stale file that is not a listening socket refuses the same way.
        Files.createFile(socket);
        assertThrows(HotConnectionException.class, () -> HotConnection.open(socket));
    }

    @Test
    void aConnectBlockedOnAFullBacklogTimesOut() throws Exception {
        // A listener that never accepts: once its backlog is full, a unix-socket connect blocks.
        Path socket = dir.resolve("full.sock");
        List<HotConnection> queued = new ArrayList<>();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket), 1);
            HotTimeoutException timedOut = null;
            for (int i = 0; i < 100 && timedOut == null; i++) {
                long started = System.nanoTime();
                try {
                    queued.add(HotConnection.open(socket, in(DEADLINE)));
                } catch (HotTimeoutException e) {
                    assertTrue(System.nanoTime() - started < PROMPT_NANOS);
                    timedOut = e;
                }
            }
            assertInstanceOf(HotTimeoutException.class, timedOut, "some connect blocked and timed out");
        } finally {
            queued.forEach(HotConnection::close);
        }
    }

    @Test
    void closingTheConnectionFromAnotherThreadFailsTheExchangeAsAConnectionFailure() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.stallUntilClientCloses();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            Thread closer = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                connection.close();
            });
            assertThrows(HotConnectionException.class, () -> connection.exchange(get("/"), soon(), MAX_BODY));
            closer.join();
            assertThrows(IllegalStateException.class, () -> connection.exchange(get("/"), soon(), MAX_BODY));
        }
    }

    @Test
    void interruptingTheCallingThreadIsNotBlamedOnTheInstance() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.stallUntilClientCloses();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
            Thread caller = Thread.ofVirtual().start(() -> {
                thrown.set(assertThrows(Throwable.class, () -> connection.exchange(get("/"), soon(), MAX_BODY)));
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            });
            Thread.sleep(100);
            caller.interrupt();
            caller.join();
            assertInstanceOf(HotInterruptedException.class, thrown.get());
            assertTrue(stillInterrupted.get());
            assertUnusable(connection);
        }
    }

    // --- not HTTP/1.1 ---

    @ParameterizedTest
    @ValueSource(strings = {
            "garbage\r\n\r\n",
            "\r\n\r\n",
            "HTTP/1.1\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 abc OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "HTTP/1.1 600 High\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.2 200 OK\r\n\r\n",
            "http/1.1 200 OK\r\n\r\n",
            "HTTP/1.1  200 OK\r\n\r\n",
            "HTTP/1.1 200 O\u0000K\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
            "HTTP/1.1 200 OK\r\nSpace Before : colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\nName : value\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A: bare\rcr\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A: nul\u0000\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ntoo long",
            "HTTP/1.1 204 No Content\r\n\r\nunexpected body",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nextra",
    })
    void aResponseThatIsNotHttp11IsAProtocolError(String response) throws Exception {
        assertInstanceOf(HotProtocolException.class, failureFor(response));
    }

    @Test
    void aHeadOver64KiBIsAProtocolError() throws Exception {
        String big = "HTTP/1.1 200 OK\r\n" + ("X-Filler: " + "f".repeat(1000) + "\r\n").repeat(70)
                + "Content-Length: 0\r\n\r\n";
        assertInstanceOf(HotProtocolException.class, failureFor(big));
    }

    @Test
    void aSingleHeaderLineOver64KiBIsAProtocolError() throws Exception {
        assertInstanceOf(HotProtocolException.class,
                failureFor("HTTP/1.1 200 OK\r\nX-Huge: " + "h".repeat(70_000) + "\r\n\r\n"));
    }

    @Test
    void aHeadJustUnder64KiBIsAccepted() throws Exception {
        String prefix = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Filler: ";
        String suffix = "\r\n\r\n";
        String big = prefix + "f".repeat(HotResponseReader.MAX_HEAD_BYTES - prefix.length() - suffix.length()) + suffix;
        assertEquals(HotResponseReader.MAX_HEAD_BYTES, big.length());
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4), big + "ok"));
             HotConnection connection = HotConnection.open(server.socket())) {
            assertEquals("ok", text(connection.exchange(get("/"), soon(), MAX_BODY)));
        }
    }

    @Test
    void trailersOver64KiBAreAProtocolError() throws Exception {
        assertInstanceOf(HotProtocolException.class, failureFor("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n" + ("X-T: " + "t".repeat(1000) + "\r\n").repeat(70) + "\r\n"));
    }

    // --- too large ---

    @Test
    void aContentLengthOverTheLimitIsTooLargeBeforeTheBodyIsRead() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nContent-Length: 7000000\r\n\r\n");
            peer.stallUntilClientCloses();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponseTooLargeException failure = assertThrows(HotResponseTooLargeException.class,
                    () -> connection.exchange(get("/"), soon(), MAX_BODY));
            assertEquals(MAX_BODY, failure.limit());
            assertUnusable(connection);
        }
    }

    @Test
    void chunksAddingUpOverTheLimitAreTooLarge() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            assertThrows(HotResponseTooLargeException.class, () -> connection.exchange(get("/"), soon(), 5));
            assertUnusable(connection);
        }
    }

    @Test
    void anEofDelimitedBodyOverTheLimitIsTooLarge() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\n\r\n");
            peer.pause();
            peer.write(new byte[100_000]);
            peer.close();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            assertThrows(HotResponseTooLargeException.class, () -> connection.exchange(get("/"), soon(), 50_000));
            assertUnusable(connection);
        }
    }
}
