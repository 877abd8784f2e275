package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Reads the end of a container's output from the engine's log ({@code docker logs --tail}), stdout and stderr
 * interleaved as they were written. Best effort: never throws. Stateless.
 */
final class ContainerLogs {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerLogs.class);
    /** The engine's tail counts lines; more than this many are never asked for, however large the byte budget. */
    private static final int MAX_TAIL_LINES = 10_000;

    private ContainerLogs() {
    }

    /**
     * @param maxBytes how much of the end to return at most
     * @param timeout  longest to wait for the engine
     * @return the last {@code maxBytes} bytes of the container's output (a character cut at the start is dropped),
     *         empty when the container is gone, keeps no log, or the engine fails
     */
    static String tail(DockerClient docker, String containerId, int maxBytes, Duration timeout) {
        if (maxBytes <= 0) {
            return "";
        }
        TailBuffer tail = new TailBuffer(maxBytes);
        // Every line is at least one byte, so this many lines always cover maxBytes bytes.
        int lines = Math.min(maxBytes, MAX_TAIL_LINES);
        ResultCallback.Adapter<Frame> callback = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(Frame frame) {
                byte[] payload = frame.getPayload();
                if (payload != null) {
                    // One stream thread writes; the buffer is read only after completion (the latch orders the two).
                    tail.write(payload, 0, payload.length);
                }
            }

            @Override
            public void onError(Throwable throwable) {
                // Not docker-java's error-level log: a missing log is expected here (container gone).
                LOG.atDebug().addKeyValue("container", shortId(containerId))
                        .addKeyValue("reason", throwable.toString()).log("container log unavailable");
                try {
                    close();
                } catch (Exception ignored) {
                    // Already ended.
                }
            }
        };
        try {
            docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true).withTail(lines).exec(callback);
            if (!callback.awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.atDebug().addKeyValue("container", shortId(containerId)).log("container log read timed out");
                return "";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } catch (RuntimeException e) {
            LOG.atDebug().addKeyValue("container", shortId(containerId)).addKeyValue("reason", e.toString())
                    .log("container log unavailable");
            return "";
        } finally {
            try {
                callback.close();
            } catch (Exception ignored) {
                // Already ended.
            }
        }
        return tail.asString();
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
