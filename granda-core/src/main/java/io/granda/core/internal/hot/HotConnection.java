package io.granda.core.internal.hot;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One persistent HTTP/1.1 connection to a hot function instance's unix socket: the client side of
 * {@code docs/hot-functions.md}. Not API.
 *
 * <p>{@link #exchange} sends one request and reads its complete response, no pipelining. Deadlines are enforced by
 * the shared {@link HotWatchdog}, which closes the channel when one passes: a blocking read on a unix socket has no
 * timeout of its own. Each connection owns a 16 KiB read buffer and a 16 KiB write buffer, so a typical call is one
 * {@code write}, one {@code read} and, besides the response objects, one allocation for the body.
 *
 * <p>After any {@link HotExchangeException}, and after a response that does not allow keep-alive, the connection is
 * not {@linkplain #reusable() reusable} and the caller must {@linkplain #close() close} it.
 *
 * <p>Thread-safety: one exchange at a time; the caller guarantees it (a pooled connection belongs to one call at a
 * time). {@link #close()}, {@link #reusable()} and {@link #completedExchanges()} may be called from any thread;
 * closing during an exchange makes it fail. Works on virtual threads: blocking channel I/O parks them.
 */
public final class HotConnection implements AutoCloseable {

    /** How long {@link #open(Path)} waits for the connect, which only blocks when the listen backlog is full. */
    public static final long DEFAULT_CONNECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final SocketChannel channel;
    private final Path socket;
    private final HotWatchdog.Watch watch;
    private final HotRequestWriter writer = new HotRequestWriter();
    private final HotResponseReader reader = new HotResponseReader();
    private volatile boolean reusable = true;
    private volatile boolean closed;
    private volatile int completedExchanges;

    private HotConnection(SocketChannel channel, Path socket, HotWatchdog watchdog) {
        this.channel = channel;
        this.socket = socket;
        this.watch = watchdog.watch(channel);
    }

    /**
     * Connects to an instance's socket, waiting at most {@link #DEFAULT_CONNECT_TIMEOUT_NANOS}.
     *
     * @throws HotConnectionException if the socket cannot be connected (missing, refused)
     * @throws HotTimeoutException    if the connect did not complete in time
     * @throws HotInterruptedException if the calling thread was interrupted
     */
    public static HotConnection open(Path socket) throws HotExchangeException {
        return open(socket, System.nanoTime() + DEFAULT_CONNECT_TIMEOUT_NANOS);
    }

    /**
     * Connects to an instance's socket.
     *
     * @param deadlineNanos a {@link System#nanoTime()} value by which the connect must complete
     * @throws HotConnectionException  if the socket cannot be connected (missing, refused)
     * @throws HotTimeoutException     if the deadline passed first
     * @throws HotInterruptedException if the calling thread was interrupted
     */
    public static HotConnection open(Path socket, long deadlineNanos) throws HotExchangeException {
        return open(socket, deadlineNanos, HotWatchdog.shared());
    }

    static HotConnection open(Path socket, long deadlineNanos, HotWatchdog watchdog) throws HotExchangeException {
        Objects.requireNonNull(socket, "socket");
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            // Out of file descriptors, most likely: the platform's trouble, but nothing connects either way.
            throw new HotConnectionException("cannot create a socket to connect to " + socket + ": " + e, e, true);
        }
        HotConnection connection = new HotConnection(channel, socket, watchdog);
        boolean connected = false;
        try {
            connection.watch.arm(deadlineNanos);
            channel.connect(UnixDomainSocketAddress.of(socket));
            connected = connection.watch.disarm();
            if (!connected) {
                throw new HotTimeoutException("connecting to " + socket + " took longer than its deadline");
            }
            return connection;
        } catch (ClosedByInterruptException e) {
            throw new HotInterruptedException("interrupted while connecting to " + socket, e);
        } catch (HotExchangeException e) {
            throw e;
        } catch (IOException e) {
            if (connection.watch.expired()) {
                throw new HotTimeoutException("connecting to " + socket + " took longer than its deadline", e);
            }
            throw new HotConnectionException("cannot connect to " + socket + ": " + e.getMessage(), e, true);
        } finally {
            if (!connected) {
                connection.close();
            }
        }
    }

    /**
     * Sends one request and reads its complete response. A {@code 1xx} interim response is skipped; a {@code HEAD}
     * request, {@code 204} and {@code 304} have no body.
     *
     * <p>A response whose last byte arrives after {@code deadlineNanos} counts as late, even if it arrived before the
     * watchdog closed the channel, so the outcome depends on the deadline only. A deadline already passed sends
     * nothing.
     *
     * @param request              the request
     * @param deadlineNanos        a {@link System#nanoTime()} value by which the response must be complete
     * @param maxResponseBodyBytes the largest body accepted, in bytes
     * @return the response
     * @throws HotTimeoutException           if the deadline passed before a complete response
     * @throws HotConnectionException        if the instance closed or reset the connection first
     * @throws HotProtocolException          if the instance sent something that is not HTTP/1.1
     * @throws HotResponseTooLargeException  if the body is larger than {@code maxResponseBodyBytes}
     * @throws HotInterruptedException       if the calling thread was interrupted
     * @throws IllegalStateException         if the connection is not {@linkplain #reusable() reusable}
     */
    public HotResponse exchange(HotRequest request, long deadlineNanos, int maxResponseBodyBytes)
            throws HotExchangeException {
        Objects.requireNonNull(request, "request");
        if (maxResponseBodyBytes < 0) {
            throw new IllegalArgumentException("maxResponseBodyBytes < 0: " + maxResponseBodyBytes);
        }
        if (!reusable()) {
            throw new IllegalStateException(closed ? "the connection is closed" : "the connection is not reusable");
        }
        // Until a complete keep-alive response proves otherwise, whatever goes wrong.
        reusable = false;
        if (System.nanoTime() - deadlineNanos >= 0) {
            throw new HotTimeoutException("the deadline passed before the request was sent");
        }
        watch.arm(deadlineNanos);
        boolean written = false;
        try {
            writer.write(channel, request);
            written = true;
            HotResponse response = reader.read(channel, request.isHead(), maxResponseBodyBytes);
            if (System.nanoTime() - deadlineNanos > 0) {
                throw new HotTimeoutException("the response was complete only after the deadline");
            }
            completedExchanges++;
            // Losing the disarm race means the watchdog is closing the channel: the response stands, the
            // connection does not.
            reusable = watch.disarm() && reader.keepAlive();
            return response;
        } catch (HotProtocolException | HotResponseTooLargeException | HotTimeoutException e) {
            throw e;
        } catch (IOException e) {
            throw classify(e, !written || !reader.receivedAny());
        } finally {
            watch.disarm();
        }
    }

    /**
     * Names an I/O failure. The watchdog closing the channel surfaces as an {@code AsynchronousCloseException} or
     * {@code ClosedChannelException}, indistinguishable from other closes, hence the check of the watch first.
     */
    private HotExchangeException classify(IOException e, boolean beforeResponse) {
        if (watch.expired()) {
            return new HotTimeoutException("the deadline passed before the response was complete", e);
        }
        if (e instanceof ClosedByInterruptException) {
            return new HotInterruptedException("interrupted during an exchange with " + socket, e);
        }
        if (closed) {
            return new HotConnectionException("the connection was closed by Granda during the exchange", e,
                    beforeResponse);
        }
        if (e instanceof HotConnectionException connectionError) {
            return connectionError;
        }
        return new HotConnectionException("the connection to the instance failed: " + e.getMessage(), e,
                beforeResponse);
    }

    /**
     * @return true when the connection can carry another exchange: freshly opened, or after a complete response that
     * allows keep-alive (HTTP/1.1 without {@code Connection: close}, body delimited by length or chunks, nothing
     * sent after it); false after any failure and once closed
     */
    public boolean reusable() {
        // Both flags: a close() racing with the end of an exchange may be followed by the exchange setting reusable.
        return reusable && !closed;
    }

    /** @return how many exchanges completed with a response on this connection */
    public int completedExchanges() {
        return completedExchanges;
    }

    /** @return the socket this connection is connected to */
    public Path socket() {
        return socket;
    }

    /** Closes the connection. Safe from any thread and more than once; an exchange under way fails. */
    @Override
    public void close() {
        closed = true;
        reusable = false;
        watch.cancel();
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing to do: the descriptor is released whatever close reports.
        }
    }

    @Override
    public String toString() {
        return "HotConnection[" + socket + (closed ? ", closed" : reusable ? "" : ", not reusable") + "]";
    }
}
