package io.granda.docker;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits until a hot instance is ready: its socket file exists on the host and accepts a connection (which is then
 * closed at once). Stateless.
 *
 * <p>Why a plain poll and not inotify: the engine's start call returns only after the process runs, and measured
 * here ({@code DockerHotStartMeasurement}) the hot echo image's socket was already there when it returned in 464 of
 * 480 starts, so the first look almost always succeeds. When it does not (a process with real init work), a look
 * every {@value #POLL_MICROS} µs costs one {@code stat} (a few µs of CPU) and adds at most that to the start. A
 * {@code WatchService} (inotify) measured no faster (start's return to ready: medians 0.12-0.13 ms for inotify,
 * 0.12-0.15 ms for this poll, within noise), costs an inotify registration and the JDK's watcher thread per start,
 * and still needs a poll for the gap between {@code bind} and {@code listen}.
 */
final class SocketReadiness {

    /** How long to sleep between two looks. */
    static final long POLL_MICROS = 500;

    /** How an instance's wait for readiness ended. */
    enum State {
        /** The socket accepted a connection. */
        READY,
        /** The process ended first. */
        EXITED,
        /** The deadline passed. */
        TIMED_OUT
    }

    private SocketReadiness() {
    }

    /**
     * Waits for the socket to accept a connection, the process to exit, or the deadline, whichever comes first.
     *
     * @param socket   the socket's host path
     * @param deadline {@link System#nanoTime()} at which to give up
     * @param exited   says whether the process has ended; asked once per look, so it must be cheap
     * @return why the wait ended
     * @throws InterruptedException when the waiting thread is interrupted
     */
    static State await(Path socket, long deadline, BooleanSupplier exited) throws InterruptedException {
        while (true) {
            if (readyNow(socket)) {
                return State.READY;
            }
            if (exited.getAsBoolean()) {
                return State.EXITED;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return State.TIMED_OUT;
            }
            LockSupport.parkNanos(Math.min(left, POLL_MICROS * 1000));
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for " + socket);
            }
        }
    }

    /** @return whether the socket exists and accepts a connection now (one look, no wait) */
    static boolean readyNow(Path socket) {
        // A process binds (the file appears) before it listens: a refused connect means "look again".
        return Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && accepts(socket);
    }

    /**
     * @return why a connection to the socket fails now (e.g. "Connection refused", or "Permission denied" for a socket
     *         the process made without write permission for this user), null when it succeeds
     */
    static String connectFailure(Path socket) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return null;
        } catch (IOException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    /** @return whether the socket accepts a connection now; the connection is closed at once */
    static boolean accepts(Path socket) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
