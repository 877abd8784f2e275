package io.granda.runtimes;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every shim does, whatever the language (docs/hot-functions.md): the compatibility kit each shim's test extends.
 * Each test runs the shim on this host, on a unix socket in a temporary directory, with the subclass's sample
 * function, and talks to it as Granda does.
 */
// A shim that stops answering must fail its test, not hang the build: the interrupt closes the blocked socket read.
@Timeout(120)
abstract class ShimContract {

    @TempDir
    Path temp;
    ShimProcess shim;

    /**
     * Starts the shim with the sample function, which must echo a payload of more than 128 KiB POSTed to
     * {@link #echoTarget()}.
     *
     * @param dir where to put the function's directory (it does not exist yet)
     */
    abstract ShimProcess start(Path dir) throws Exception;

    /** @return where a large body is echoed */
    abstract String echoTarget();

    @BeforeEach
    final void startShim() throws Exception {
        shim = start(temp.resolve("fn"));
    }

    @AfterEach
    final void stopShim() {
        if (shim != null) {
            shim.close();
        }
    }

    @Test
    void theSocketIsInPlaceAndConnectableByAnyone() throws Exception {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(shim.socket());
        assertTrue(mode.contains(PosixFilePermission.OTHERS_WRITE) && mode.contains(PosixFilePermission.OTHERS_READ),
                "socket mode " + mode);
        assertFalse(Files.exists(Path.of(shim.socket() + ".new")), "the temporary name is gone");
        try (HotClient client = shim.connect()) {
            assertEquals(200, client.send("POST", echoTarget(), Map.of(), bigBody()).status());
        }
    }

    @Test
    void keepsTheConnectionOpenBetweenRequests() throws Exception {
        try (HotClient client = shim.connect()) {
            byte[] body = bigBody();
            for (int i = 0; i < 3; i++) {
                HotClient.Response r = client.send("POST", echoTarget(), Map.of(), body);
                assertEquals(200, r.status(), r.text());
                assertArrayEquals(body, r.body());
                assertFalse("close".equalsIgnoreCase(r.header("connection")));
            }
        }
    }

    @Test
    void readsAndAnswersALargeBody() throws Exception {
        byte[] body = new byte[1024 * 1024];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.send("POST", echoTarget(), Map.of(), body);
            assertEquals(200, r.status(), r.text());
            assertEquals(body.length, r.body().length);
            assertArrayEquals(body, r.body());
        }
    }

    @Test
    void servesTwoConnectionsAtOnce() throws Exception {
        try (HotClient first = shim.connect(); HotClient second = shim.connect()) {
            assertEquals(200, second.send("POST", echoTarget(), Map.of(), bigBody()).status());
            assertEquals(200, first.send("POST", echoTarget(), Map.of(), bigBody()).status());
            assertEquals(200, second.send("POST", echoTarget(), Map.of(), bigBody()).status());
        }
    }

    @Test
    void closesTheConnectionWhenAskedTo() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.send("POST", echoTarget(), Map.of("Connection", "close"), bigBody());
            assertEquals(200, r.status());
            assertTrue(client.closedByPeer(), "the shim closes after answering");
        }
    }

    /** A body every sample echoes: over 128 KiB, so a program gets it on stdin only. */
    static byte[] bigBody() {
        byte[] body = new byte[200 * 1024];
        Arrays.fill(body, (byte) 'x');
        System.arraycopy("start".getBytes(StandardCharsets.US_ASCII), 0, body, 0, 5);
        return body;
    }
}
