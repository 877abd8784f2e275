package io.granda.core.internal.hot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static io.granda.core.internal.hot.HotConnectionTest.MAX_BODY;
import static io.granda.core.internal.hot.HotConnectionTest.in;
import static io.granda.core.internal.hot.HotConnectionTest.post;
import static io.granda.core.internal.hot.HotConnectionTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many connections at once on virtual threads, and the watchdog keeping nothing behind. */
class HotConnectionConcurrencyTest {

    @TempDir
    Path dir;

    @Test
    void sixtyFourVirtualThreadsWithTheirOwnConnectionsAllGetTheirOwnAnswers() throws Exception {
        int threads = 64;
        int exchanges = 500;
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        try (FakeHotServer server = FakeHotServer.start(dir, FakeHotServer.echo())) {
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int caller = t;
                callers.add(Thread.ofVirtual().name("caller-" + t).start(() -> {
                    try (HotConnection connection = HotConnection.open(server.socket())) {
                        for (int i = 0; i < exchanges; i++) {
                            String body = "caller " + caller + " call " + i + " " + "p".repeat(i % 97);
                            HotResponse response = connection.exchange(post("/c/" + caller + "/" + i, body),
                                    in(Duration.ofSeconds(30)), MAX_BODY);
                            assertEquals(200, response.status());
                            assertEquals(body, text(response));
                            assertEquals("/c/" + caller + "/" + i, response.firstHeader("X-Target").orElseThrow());
                            assertTrue(connection.reusable());
                        }
                        assertEquals(exchanges, connection.completedExchanges());
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread caller : callers) {
                assertTrue(caller.join(Duration.ofMinutes(2)), "caller finished");
            }
            assertEquals(List.of(), List.copyOf(failures));
            assertEquals(threads, server.connections());
        }
    }

    @Test
    void theWatchdogKeepsNothingBehindAfterManyExchanges() throws Exception {
        HotWatchdog watchdog = new HotWatchdog("test-watchdog");
        try (FakeHotServer server = FakeHotServer.start(dir, FakeHotServer.echo())) {
            try (HotConnection connection = HotConnection.open(server.socket(), in(Duration.ofSeconds(10)), watchdog)) {
                byte[] body = "x".getBytes(StandardCharsets.UTF_8);
                for (int i = 0; i < 10_000; i++) {
                    connection.exchange(new HotRequest("POST", "/", List.of(), body), in(Duration.ofHours(1)),
                            MAX_BODY);
                }
                assertEquals(1, watchdog.watchedCount(), "one watch per open connection, not per exchange");
                assertEquals(0, watchdog.armedCount());
            }
            assertEquals(0, watchdog.watchedCount(), "closing the connection stops watching it");
            // Failed connects and failed exchanges leave nothing behind either.
            for (int i = 0; i < 100; i++) {
                try {
                    HotConnection.open(dir.resolve("missing.sock"), in(Duration.ofSeconds(10)), watchdog);
                } catch (HotConnectionException expected) {
                    // as intended
                }
            }
            assertEquals(0, watchdog.watchedCount());
        } finally {
            watchdog.stop();
        }
    }

    @Test
    void manyConnectionsTimingOutTogetherAllTimeOut() throws Exception {
        int connections = 50;
        try (FakeHotServer server = FakeHotServer.start(dir, peer -> {
            peer.readRequest();
            peer.stallUntilClientCloses();
        })) {
            ConcurrentLinkedQueue<Throwable> outcomes = new ConcurrentLinkedQueue<>();
            List<Thread> callers = new ArrayList<>();
            long started = System.nanoTime();
            for (int t = 0; t < connections; t++) {
                // Deadlines spread out and in no particular order, so that the watchdog must re-plan its wake-ups.
                Duration deadline = Duration.ofMillis(100 + (t * 37) % 300);
                callers.add(Thread.ofVirtual().start(() -> {
                    try (HotConnection connection = HotConnection.open(server.socket())) {
                        connection.exchange(post("/", "x"), in(deadline), MAX_BODY);
                        outcomes.add(new AssertionError("answered"));
                    } catch (Throwable e) {
                        outcomes.add(e);
                    }
                }));
            }
            for (Thread caller : callers) {
                caller.join();
            }
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10));
            assertEquals(connections, outcomes.size());
            for (Throwable outcome : outcomes) {
                assertEquals(HotTimeoutException.class, outcome.getClass(), outcome.toString());
            }
        }
    }
}
