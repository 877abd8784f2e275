package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.WaitResponse;

import java.io.Closeable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Notices, while a hot instance starts, that its process has already ended, so that a crashing image fails in
 * milliseconds instead of after the whole start timeout.
 *
 * <p>It holds one engine wait ({@code POST /containers/{id}/wait}, condition "not-running") open in the background:
 * the engine answers it the moment the process exits, and {@link #exitCode()} only reads a field, so the readiness
 * poll can ask it on every look. Should the wait stream break (the engine restarted, a proxy cut it), it falls back
 * to inspecting the container at most every {@value #INSPECT_INTERVAL_MS} ms.
 *
 * <p>Thread-safety: the engine's answer arrives on docker-java's stream thread; {@link #exitCode()} is asked by one
 * thread at a time (the one waiting for readiness); {@link #close()} may be called from any thread.
 */
final class ContainerExitWatch implements AutoCloseable {

    /** What {@link #exitCode()} reports for a process that ended with no code known (its container is gone). */
    static final int UNKNOWN_EXIT = Integer.MIN_VALUE;

    private static final long INSPECT_INTERVAL_MS = 100;

    private final DockerClient docker;
    private final String containerId;
    private final Callback callback = new Callback();
    private long nextInspect;

    private ContainerExitWatch(DockerClient docker, String containerId) {
        this.docker = docker;
        this.containerId = containerId;
    }

    /**
     * Starts watching a started container.
     *
     * @return the watch; close it when the wait for readiness is over
     */
    static ContainerExitWatch start(DockerClient docker, String containerId) {
        ContainerExitWatch watch = new ContainerExitWatch(docker, containerId);
        try {
            // "not-running" (the default): answered at once if the process already ended before the wait arrived.
            docker.waitContainerCmd(containerId).exec(watch.callback);
        } catch (RuntimeException e) {
            watch.callback.broken = true;
        }
        return watch;
    }

    /**
     * @return the process's exit code once it has ended ({@link #UNKNOWN_EXIT} when its container disappeared), null
     *         while it runs
     * @throws RuntimeException from the engine, only when the wait stream broke and an inspect fails too
     */
    Integer exitCode() {
        Integer code = callback.statusCode;
        if (code != null || !callback.broken) {
            return code;
        }
        long now = System.nanoTime();
        if (now - nextInspect < 0) {
            return null;
        }
        nextInspect = now + TimeUnit.MILLISECONDS.toNanos(INSPECT_INTERVAL_MS);
        try {
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(containerId).exec().getState();
            if (state == null || Boolean.TRUE.equals(state.getRunning()) || "created".equals(state.getStatus())) {
                return null;
            }
            return state.getExitCodeLong() == null ? UNKNOWN_EXIT : state.getExitCodeLong().intValue();
        } catch (NotFoundException e) {
            return UNKNOWN_EXIT;
        }
    }

    /** Stops watching: ends the engine's wait, which releases its connection. */
    @Override
    public void close() {
        callback.closeByUs();
    }

    /** Keeps the engine's answer; a stream that ends without one is "broken" (unless we closed it). */
    private static final class Callback extends ResultCallback.Adapter<WaitResponse> {
        /**
         * Orders {@link #onStart} against {@link #closeByUs()}: docker-java reopens a callback closed before its
         * stream started, which would keep the wait (a thread and a pooled connection) for the instance's life.
         */
        private final ReentrantLock lock = new ReentrantLock();
        private volatile Integer statusCode;
        private volatile boolean broken;
        private volatile boolean closedByUs;

        @Override
        public void onStart(Closeable stream) {
            boolean close;
            lock.lock();
            try {
                super.onStart(stream);
                close = closedByUs;
            } finally {
                lock.unlock();
            }
            if (close) {
                closeQuietly();
            }
        }

        void closeByUs() {
            lock.lock();
            try {
                closedByUs = true;
            } finally {
                lock.unlock();
            }
            closeQuietly();
        }

        private void closeQuietly() {
            try {
                close();
            } catch (Exception ignored) {
                // Aborting a request that may already have ended cannot fail in a way that matters.
            }
        }

        @Override
        public void onNext(WaitResponse response) {
            statusCode = response.getStatusCode();
        }

        @Override
        public void onError(Throwable throwable) {
            // docker-java logs errors of its callbacks at error level; here one only means "inspect instead".
            if (!closedByUs) {
                broken = true;
            }
        }

        @Override
        public void onComplete() {
            if (statusCode == null && !closedByUs) {
                broken = true;
            }
            super.onComplete();
        }
    }
}
