package io.granda.core.internal.hot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hot protocol client against a scripted server: what goes on the wire and how responses are read. */
class HotConnectionTest {

    static final int MAX_BODY = 6 * 1024 * 1024;

    @TempDir
    Path dir;

    static long in(Duration duration) {
        return System.nanoTime() + duration.toNanos();
    }

    static long soon() {
        return in(Duration.ofSeconds(30));
    }

    static HotRequest post(String target, String body, HotHeader... headers) {
        return new HotRequest("POST", target, List.of(headers), body.getBytes(StandardCharsets.UTF_8));
    }

    static HotRequest get(String target) {
        return new HotRequest("GET", target, List.of(), new byte[0]);
    }

    static String text(HotResponse response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    /** A script that records each request and answers it with the next canned response. */
    static FakeHotServer.Script canned(BlockingQueue<FakeHotServer.Received> received, String... responses) {
        return peer -> {
            for (String response : responses) {
                FakeHotServer.Received request = peer.readRequest();
                if (request == null) {
                    return;
                }
                received.add(request);
                peer.write(response);
            }
            peer.stallUntilClientCloses();
        };
    }

    /** One exchange with a generous deadline and the default body limit. */
    private HotResponse exchangeOnce(HotConnection connection, HotRequest request) throws Exception {
        return connection.exchange(request, soon(), MAX_BODY);
    }

    @Test
    void requestBytesAreExactlyAsSpecified() throws Exception {
        BlockingQueue<FakeHotServer.Received> received = new ArrayBlockingQueue<>(4);
        try (FakeHotServer server = FakeHotServer.start(dir, canned(received,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotRequest request = post("/orders/42?expand=items", "{\"status\":\"paid\"}",
                    new HotHeader("Content-Type", "application/json"),
                    new HotHeader("Granda-Call-Id", "01m8cd1yf5q8829pa2df2fmg79"),
                    new HotHeader("Host", "caller.example"),
                    new HotHeader("content-length", "999"),
                    new HotHeader("Connection", "close"),
                    new HotHeader("Transfer-Encoding", "chunked"),
                    new HotHeader("Proxy-Authorization", "secret"),
                    new HotHeader("Accept", "text/plain"),
                    new HotHeader("accept", "application/json"),
                    new HotHeader("X-Spaces", "a  b\tc"));
            exchangeOnce(connection, request);
            assertEquals("""
                    POST /orders/42?expand=items HTTP/1.1\r
                    Host: granda\r
                    Content-Length: 17\r
                    Content-Type: application/json\r
                    Granda-Call-Id: 01m8cd1yf5q8829pa2df2fmg79\r
                    Accept: text/plain\r
                    accept: application/json\r
                    X-Spaces: a  b\tc\r
                    \r
                    {"status":"paid"}""", received.take().rawText());
        }
    }

    @Test
    void anEmptyBodyIsSentWithContentLengthZero() throws Exception {
        BlockingQueue<FakeHotServer.Received> received = new ArrayBlockingQueue<>(4);
        try (FakeHotServer server = FakeHotServer.start(dir, canned(received,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            exchangeOnce(connection, get("/"));
            assertEquals("GET / HTTP/1.1\r\nHost: granda\r\nContent-Length: 0\r\n\r\n", received.take().rawText());
        }
    }

    @Test
    void aLargeRequestAndLargeResponsesGoThroughWhole() throws Exception {
        byte[] payload = new byte[3 * 1024 * 1024 + 17];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31 + (i >>> 11));
        }
        try (FakeHotServer server = FakeHotServer.start(dir, FakeHotServer.echo());
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = connection.exchange(new HotRequest("PUT", "/big", List.of(), payload), soon(),
                    MAX_BODY);
            assertArrayEquals(payload, response.body());
            assertTrue(connection.reusable());
            // Medium sizes around the buffer size cross the buffered and direct read paths.
            for (int size : new int[] {16 * 1024 - 60, 16 * 1024, 16 * 1024 + 1, 40 * 1024, 300 * 1024}) {
                byte[] body = Arrays.copyOf(payload, size);
                assertArrayEquals(body, connection.exchange(new HotRequest("PUT", "/m", List.of(), body), soon(),
                        MAX_BODY).body(), "size " + size);
            }
        }
    }

    @Test
    void aContentLengthResponseIsReadAndTheConnectionStaysReusable() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, post("/", "x"));
            assertEquals(201, response.status());
            assertEquals("Created", response.reason());
            assertEquals(List.of(new HotHeader("Content-Type", "text/plain")), response.headers());
            assertEquals("hello\n", text(response));
            assertTrue(connection.reusable());
            assertEquals(1, connection.completedExchanges());
        }
    }

    @Test
    void aResponseArrivingInPiecesIsReassembled() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            for (String piece : new String[] {"HTT", "P/1.1 200 OK\r", "\nContent-Le", "ngth: 10\r\n", "\r", "\nabc",
                    "defghij"}) {
                peer.write(piece);
                peer.pause();
            }
            peer.stallUntilClientCloses();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, get("/"));
            assertEquals("abcdefghij", text(response));
            assertTrue(connection.reusable());
        }
    }

    @Test
    void aChunkedResponseWithExtensionsAndTrailersIsReassembled() throws Exception {
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nX-Before: 1\r\n\r\n"
                + "5\r\nhello\r\n"
                + "1;name=value\r\n,\r\n"
                + "0006 ; quoted=\"a;b\"\r\n world\r\n"
                + "A\r\n0123456789\r\n"
                + "0\r\nX-Checksum: abc\r\nX-Other: def\r\n\r\n";
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4), chunked, chunked));
             HotConnection connection = HotConnection.open(server.socket())) {
            for (int i = 0; i < 2; i++) {
                HotResponse response = exchangeOnce(connection, get("/"));
                assertEquals("hello, world0123456789", text(response));
                assertEquals(List.of(new HotHeader("X-Before", "1")), response.headers(),
                        "Transfer-Encoding and Trailer are hop-by-hop; trailers are dropped");
                assertTrue(connection.reusable());
            }
        }
    }

    @Test
    void aChunkedResponseInPiecesAndLargeChunksIsReassembled() throws Exception {
        byte[] big = new byte[100_000];
        Arrays.fill(big, (byte) 'b');
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r");
            peer.pause();
            peer.write("\nabc\r");
            peer.pause();
            peer.write("\n" + Integer.toHexString(big.length) + "\r\n");
            peer.write(big);
            peer.write("\r\n2\r\nyz\r\n0\r\n");
            peer.pause();
            peer.write("\r\n");
            peer.stallUntilClientCloses();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, get("/"));
            assertEquals("abc" + "b".repeat(big.length) + "yz", text(response));
            assertTrue(connection.reusable());
        }
    }

    @Test
    void bareLineFeedsAreAccepted() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200 OK\nX-A: 1\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, get("/"));
            assertEquals("ok", text(response));
            assertEquals(List.of(new HotHeader("X-A", "1")), response.headers());
            assertTrue(connection.reusable());
        }
    }

    @Test
    void aResponseDelimitedByTheEndOfTheConnectionIsReadAndNotReusable() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil ");
            peer.pause();
            peer.write("the end");
            peer.close();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, get("/"));
            assertEquals("until the end", text(response));
            assertFalse(connection.reusable());
        }
    }

    @Test
    void connectionCloseMakesTheConnectionNotReusable() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 2\r\n\r\nok"));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, get("/"));
            assertEquals("ok", text(response));
            assertEquals(List.of(), response.headers());
            assertFalse(connection.reusable());
        }
    }

    @Test
    void http10IsKeptAliveOnlyWhenItSaysSo() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
                "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
             HotConnection connection = HotConnection.open(server.socket())) {
            exchangeOnce(connection, get("/"));
            assertTrue(connection.reusable());
            exchangeOnce(connection, get("/"));
            assertFalse(connection.reusable());
        }
    }

    @Test
    void aThousandSequentialExchangesShareOneConnection() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, FakeHotServer.echo());
             HotConnection connection = HotConnection.open(server.socket())) {
            for (int i = 0; i < 1000; i++) {
                HotResponse response = exchangeOnce(connection, post("/n/" + i, "call " + i));
                assertEquals(200, response.status());
                assertEquals("call " + i, text(response));
                assertEquals("/n/" + i, response.firstHeader("x-target").orElseThrow());
                assertTrue(connection.reusable());
            }
            assertEquals(1000, connection.completedExchanges());
            assertEquals(1, server.connections());
        }
    }

    @Test
    void interimResponsesAreSkipped() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 100 Continue\r\n\r\n");
            peer.pause();
            peer.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                    + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Final: yes\r\n\r\ndone");
            peer.stallUntilClientCloses();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, post("/", "x"));
            assertEquals(200, response.status());
            assertEquals(List.of(new HotHeader("X-Final", "yes")), response.headers());
            assertEquals("done", text(response));
            assertTrue(connection.reusable());
        }
    }

    @Test
    void headAnd204And304HaveNoBodyWhateverTheHeadersSay() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(8),
                "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html\r\n\r\n",
                "HTTP/1.1 204 No Content\r\n\r\n",
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter"));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse head = exchangeOnce(connection, new HotRequest("HEAD", "/", List.of(), new byte[0]));
            assertEquals(0, head.body().length);
            assertEquals(List.of(new HotHeader("Content-Type", "text/html")), head.headers());
            assertTrue(connection.reusable());
            HotResponse noContent = exchangeOnce(connection, get("/"));
            assertEquals(204, noContent.status());
            assertEquals(0, noContent.body().length);
            assertTrue(connection.reusable());
            HotResponse notModified = exchangeOnce(connection, get("/"));
            assertEquals(304, notModified.status());
            assertEquals(0, notModified.body().length);
            assertTrue(connection.reusable());
            // The next response is read from the right place: nothing was consumed as a body.
            assertEquals("after", text(exchangeOnce(connection, get("/"))));
        }
    }

    @Test
    void headersKeepOrderAndRepeatsAndLoseHopByHopOnes() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200 OK\r\n"
                        + "Set-Cookie: a=1\r\n"
                        + "connection: keep-alive\r\n"
                        + "X-Tab:\t  padded value \t\r\n"
                        + "Keep-Alive: timeout=5\r\n"
                        + "set-cookie: b=2\r\n"
                        + "TE: trailers\r\n"
                        + "Upgrade: h2c\r\n"
                        + "Proxy-Authenticate: Basic\r\n"
                        + "Proxy-Connection: keep-alive\r\n"
                        + "Trailer: X-T\r\n"
                        + "X-Empty:\r\n"
                        + "Content-Length: 0\r\n"
                        + "Granda-Whatever: kept\r\n"
                        + "X-Latin: caf\u00e9\r\n"
                        + "Set-Cookie: c=3\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse response = exchangeOnce(connection, get("/"));
            assertEquals(List.of(
                    new HotHeader("Set-Cookie", "a=1"),
                    new HotHeader("X-Tab", "padded value"),
                    new HotHeader("set-cookie", "b=2"),
                    new HotHeader("X-Empty", ""),
                    new HotHeader("Granda-Whatever", "kept"),
                    new HotHeader("X-Latin", "caf\u00e9"),
                    new HotHeader("Set-Cookie", "c=3")), response.headers());
            assertEquals("a=1", response.firstHeader("SET-COOKIE").orElseThrow());
            assertTrue(connection.reusable());
        }
    }

    @Test
    void theReasonPhraseIsOptional() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 503 Service  Unavailable\r\nContent-Length: 0\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            HotResponse ok = exchangeOnce(connection, get("/"));
            assertEquals(200, ok.status());
            assertEquals("", ok.reason());
            HotResponse notFound = exchangeOnce(connection, get("/"));
            assertEquals(404, notFound.status());
            assertEquals("", notFound.reason());
            HotResponse unavailable = exchangeOnce(connection, get("/"));
            assertEquals(503, unavailable.status());
            assertEquals("Service  Unavailable", unavailable.reason());
            assertTrue(connection.reusable());
        }
    }

    @Test
    void repeatedEqualContentLengthsAreAccepted() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok"));
             HotConnection connection = HotConnection.open(server.socket())) {
            assertEquals("ok", text(exchangeOnce(connection, get("/"))));
            assertTrue(connection.reusable());
        }
    }

    @Test
    void transferEncodingWinsOverContentLengthButTheConnectionIsNotReused() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            assertEquals("ok", text(exchangeOnce(connection, get("/"))));
            assertFalse(connection.reusable());
        }
    }

    @Test
    void aBodyExactlyAtTheLimitIsAccepted() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, canned(new ArrayBlockingQueue<>(4),
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfive5",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
             HotConnection connection = HotConnection.open(server.socket())) {
            assertEquals("five5", text(connection.exchange(get("/"), soon(), 5)));
            assertEquals("abcde", text(connection.exchange(get("/"), soon(), 5)));
        }
    }

    @Test
    void anEofDelimitedBodyAtTheLimitIsAccepted() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.write("HTTP/1.1 200 OK\r\n\r\nfive5");
            peer.close();
        });
             HotConnection connection = HotConnection.open(server.socket())) {
            assertEquals("five5", text(connection.exchange(get("/"), soon(), 5)));
        }
    }

    @Test
    void aFreshConnectionPerCallWorksAfterConnectionClose() throws Exception {
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            FakeHotServer.Received request = peer.readRequest();
            assertNotNull(request);
            peer.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " + request.body().length + "\r\n\r\n");
            peer.write(request.body());
            peer.close();
        })) {
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                try (HotConnection connection = HotConnection.open(server.socket())) {
                    bodies.add(text(exchangeOnce(connection, post("/", "n" + i))));
                    assertFalse(connection.reusable());
                }
            }
            assertEquals(20, bodies.size());
            assertEquals("n19", bodies.get(19));
            assertTrue(server.connections() >= 20);
        }
    }
}
