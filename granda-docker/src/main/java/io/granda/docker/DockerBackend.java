package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PullResponseItem;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.api.model.WaitResponse;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.granda.core.BackendUnavailableException;
import io.granda.core.ImageUnavailableException;
import io.granda.core.InvocationResult;
import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.PreparedImage;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import io.granda.core.spi.RunOnceResult.Termination;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Docker backend, run mode: one container per call, the original Granda contract, which works with any image.
 *
 * <p>A call creates a container from the function's image, with the payload (when not empty) as its command, i.e.
 * appended to the image's {@code ENTRYPOINT} as the last argument, and offered on stdin too. It attaches to the
 * container before starting it, sends the payload on stdin and ends stdin so the process sees end-of-file (see
 * {@link AttachStream} for why this does not use docker-java's attach), and collects stdout (the response, cut at
 * the request's limit) and stderr (the log, of which the end is kept). The process's exit code is its status; a
 * process still running at the timeout (counted from the start) is killed by removing the container; a process the
 * kernel killed for memory is reported as such. The container is removed whatever happens, with a timeout of its
 * own, never the caller's.
 *
 * <p>Every container carries the labels {@value #LABEL_OWNER}, {@value #LABEL_FUNCTION},
 * {@value #LABEL_FUNCTION_ID}, {@value #LABEL_REVISION} and {@value #LABEL_INVOCATION}; {@link #reapLeftovers()}
 * removes exactly those with this backend's owner id. Functions get the network mode of the config ({@code none} by
 * default), a memory limit without swap, and the request's environment.
 *
 * <p>Round trips per call: create, attach (on a connection of its own), start, wait, remove; plus an inspect only
 * when the exit code is 137 (killed), to tell the out-of-memory killer from any other kill. Docker records an OOM
 * kill only if its containerd shim saw it: on Docker 20.10 an OOM in the very first milliseconds of a container,
 * while the engine is busy starting many others, can go unrecorded and is then reported as {@code EXITED} with 137.
 * A runtime that reads the cgroup's own OOM counter would not have this gap.
 *
 * <p>Thread-safe: any number of calls may run at once (each blocks its own thread; virtual threads are welcome).
 */
public final class DockerBackend implements Backend {

    /** Label holding the owner id of the backend that created the container. */
    public static final String LABEL_OWNER = "io.granda.owner";
    /** Label holding the function's name. */
    public static final String LABEL_FUNCTION = "io.granda.function";
    /** Label holding the function's stable id. */
    public static final String LABEL_FUNCTION_ID = "io.granda.function-id";
    /** Label holding the revision being run. */
    public static final String LABEL_REVISION = "io.granda.revision";
    /** Label holding the invocation id of the call the container serves. */
    public static final String LABEL_INVOCATION = "io.granda.invocation";

    private static final Logger LOG = LoggerFactory.getLogger(DockerBackend.class);
    private static final Set<BackendCapability> CAPABILITIES =
            Collections.unmodifiableSet(EnumSet.of(BackendCapability.RUN_ONCE, BackendCapability.PULL_IMAGES));
    /** 128 + SIGKILL: what a process killed by the kernel (OOM) or by a force removal exits with. */
    private static final int EXIT_KILLED = 137;
    /** Linux's MAX_ARG_STRLEN: the longest single argument, including its terminating NUL. */
    static final int MAX_ARGUMENT_BYTES = 128 * 1024;
    private static final Pattern ENGINE_MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final DockerBackendConfig config;
    private final URI host;
    private final DockerClient docker;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Makes a backend; does not contact the engine (see {@link #health()}).
     *
     * @param config the configuration; validated here
     * @throws IllegalArgumentException when the configuration is invalid
     */
    public DockerBackend(DockerBackendConfig config) {
        this.config = config.validate();
        this.host = URI.create(config.dockerHost());
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(host)
                .maxConnections(config.maxConnections())
                .connectionTimeout(config.connectTimeout())
                .responseTimeout(config.responseTimeout())
                .build();
        // The default builder also reads registry credentials (~/.docker/config.json) for pulls of private images.
        DefaultDockerClientConfig clientConfig = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(config.dockerHost())
                .withDockerTlsVerify(false)
                .build();
        this.docker = DockerClientImpl.getInstance(clientConfig, http);
    }

    /** @return the configuration this backend was made with */
    public DockerBackendConfig config() {
        return config;
    }

    @Override
    public String name() {
        return "docker";
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return CAPABILITIES;
    }

    /**
     * {@inheritDoc}
     *
     * <p>An image is looked up locally first; only an absent image is pulled, bounded by
     * {@link DockerBackendConfig#pullTimeout()}. A reference without a tag or digest means {@code :latest}.
     */
    @Override
    public PreparedImage prepare(String image) {
        checkOpen();
        String id = localImageId(image);
        if (id != null) {
            return new PreparedImage(image, id, false, Duration.ZERO);
        }
        long started = System.nanoTime();
        pull(image);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        id = localImageId(image);
        if (id == null) {
            throw new ImageUnavailableException("image '" + image + "' is still absent after a successful pull");
        }
        return new PreparedImage(image, id, true, took);
    }

    /** @return the image's id, null when the engine does not have it */
    private String localImageId(String image) {
        try {
            return docker.inspectImageCmd(image).exec().getId();
        } catch (NotFoundException e) {
            return null;
        } catch (RuntimeException e) {
            throw engineFailure("inspect image '" + image + "'", e);
        }
    }

    private void pull(String image) {
        String repository = image;
        String tag = null;
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        if (!image.contains("@")) {
            // An untagged pull would fetch every tag of the repository.
            if (colon > slash) {
                repository = image.substring(0, colon);
                tag = image.substring(colon + 1);
            } else {
                tag = "latest";
            }
        }
        LOG.atInfo().addKeyValue("image", image).log("pulling image");
        PullCallback callback = new PullCallback();
        try {
            var cmd = docker.pullImageCmd(repository);
            if (tag != null) {
                cmd = cmd.withTag(tag);
            }
            cmd.exec(callback);
            if (!callback.awaitCompletion(config.pullTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ImageUnavailableException("image '" + image + "' is not present and its pull did not finish"
                        + " within " + config.pullTimeout());
            }
            callback.rethrowFailure();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageUnavailableException("interrupted while pulling image '" + image + "'", e);
        } catch (DockerException e) {
            // The engine answered: the registry is unreachable, the image does not exist, access is denied...
            throw new ImageUnavailableException("image '" + image + "' is not present and could not be pulled: "
                    + engineMessage(e), e);
        } catch (ImageUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            throw engineFailure("pull image '" + image + "'", e);
        } finally {
            closeQuietly(callback);
        }
        if (callback.error != null) {
            throw new ImageUnavailableException("image '" + image + "' is not present and could not be pulled: "
                    + callback.error);
        }
        LOG.atInfo().addKeyValue("image", image).log("pulled image");
    }

    /**
     * Receives one streamed engine answer and keeps its failure instead of logging it at error level as
     * docker-java's callbacks do: a failure here is reported to the caller, not a log event.
     */
    private abstract static class EngineCallback<T> extends ResultCallback.Adapter<T> {
        private volatile Throwable failure;

        @Override
        public void onError(Throwable throwable) {
            failure = throwable;
            closeQuietly(this);
        }

        /** Rethrows the failure, if any, as it came. */
        void rethrowFailure() {
            Throwable f = failure;
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error error) {
                throw error;
            }
            if (f != null) {
                throw new IllegalStateException(f);
            }
        }
    }

    /** Keeps the error a pull reports in its progress stream (after the engine already answered 200). */
    private static final class PullCallback extends EngineCallback<PullResponseItem> {
        private volatile String error;

        @Override
        public void onNext(PullResponseItem item) {
            // errorDetail carries the same text as the deprecated "error" field.
            if (item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null) {
                error = item.getErrorDetail().getMessage();
            }
        }
    }

    /** Keeps the exit code the engine's wait answers with. */
    private static final class WaitCallback extends EngineCallback<WaitResponse> {
        private volatile Integer statusCode;

        @Override
        public void onNext(WaitResponse response) {
            statusCode = response.getStatusCode();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The payload becomes the container's command only when it is not empty and fits in one argument (under
     * 128 KiB, no NUL byte; see {@link #fitsInOneArgument(byte[])}), decoded as UTF-8 (an argument cannot carry
     * arbitrary bytes; stdin gets them exactly). A process whose executable cannot be run (missing,
     * not executable) ends as {@link Termination#EXITED} with 127 or 126 and the engine's reason as its log, as
     * {@code docker run} reports it. {@code cpuMicros} is always {@code -1}: the container's cgroup is gone by the
     * time the process has exited.
     */
    @Override
    public RunOnceResult runOnce(RunOnceRequest request) {
        checkOpen();
        Duration imagePull = Duration.ZERO;
        long createStarted = System.nanoTime();
        String id;
        try {
            id = create(request);
        } catch (NotFoundException e) {
            // The only 404 of a create is a missing image: pull it as prepare() would, then create again.
            imagePull = prepare(request.image()).pullTime();
            createStarted = System.nanoTime();
            try {
                id = create(request);
            } catch (NotFoundException again) {
                throw new ImageUnavailableException("image '" + request.image() + "' vanished right after its pull",
                        again);
            }
        }
        AtomicBoolean removed = new AtomicBoolean();
        try {
            return run(id, request, imagePull, createStarted, removed);
        } finally {
            if (!removed.get()) {
                remove(id);
            }
        }
    }

    /**
     * Whether the payload can be the process's last argument. Linux caps one argument at 128 KiB (MAX_ARG_STRLEN,
     * with its terminating NUL) and an argument cannot hold a NUL byte; such payloads would make every call fail
     * with "argument list too long", so they reach the function on stdin only.
     */
    static boolean fitsInOneArgument(byte[] payload) {
        if (payload.length == 0 || payload.length >= MAX_ARGUMENT_BYTES) {
            return false;
        }
        for (byte b : payload) {
            if (b == 0) {
                return false;
            }
        }
        return true;
    }

    private String create(RunOnceRequest request) {
        List<String> env = new ArrayList<>(request.env().size());
        request.env().forEach((k, v) -> env.add(k + "=" + v));
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(LABEL_OWNER, config.ownerId());
        labels.put(LABEL_FUNCTION, request.functionName());
        labels.put(LABEL_FUNCTION_ID, request.functionId());
        labels.put(LABEL_REVISION, Long.toString(request.revision()));
        labels.put(LABEL_INVOCATION, request.invocationId());
        long memory = request.memoryMb() * 1024L * 1024L;
        CreateContainerCmd cmd = docker.createContainerCmd(request.image())
                .withLabels(labels)
                .withEnv(env)
                .withTty(false)
                // StdinOnce: the engine ends the process's stdin when our attach half-closes.
                .withStdinOpen(true)
                .withStdInOnce(true)
                .withHostConfig(HostConfig.newHostConfig()
                        .withMemory(memory)
                        // Equal to the memory limit: no swap, so a hog meets the OOM killer instead of crawling.
                        .withMemorySwap(memory)
                        .withNetworkMode(config.networkMode()));
        if (fitsInOneArgument(request.payload())) {
            // As the original Granda: an empty payload leaves the image's CMD alone.
            cmd.withCmd(new String(request.payload(), StandardCharsets.UTF_8));
        }
        try {
            String id = cmd.exec().getId();
            LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("function", request.functionName())
                    .addKeyValue("invocation", request.invocationId()).log("created container");
            return id;
        } catch (NotFoundException e) {
            throw e;
        } catch (RuntimeException e) {
            throw engineFailure("create a container from '" + request.image() + "'", e);
        }
    }

    /**
     * Attaches, starts and follows a created container. Removes it only to kill it at the timeout, and then sets
     * {@code removed}; the caller removes it in every other case.
     */
    private RunOnceResult run(String id, RunOnceRequest request, Duration imagePull, long createStarted,
            AtomicBoolean removed) {
        HeadBuffer stdout = new HeadBuffer(request.maxOutputBytes());
        TailBuffer stderr = new TailBuffer(request.maxLogBytes());
        AttachStream attach;
        try {
            attach = AttachStream.open(host, id, config.connectTimeout());
        } catch (IOException e) {
            throw new BackendUnavailableException("Docker engine at " + host + " failed to attach to container "
                    + shortId(id) + ": " + e.getMessage(), e);
        }
        try {
            // Stdin goes in before the start: the engine holds it until the process runs, which then finds it at
            // once. Its own thread: a large payload blocks until the process reads it, or forever if it never does.
            byte[] payload = request.payload();
            if (payload.length == 0) {
                sendStdin(attach, payload, id);
            } else {
                Thread.ofVirtual().name("granda-stdin-" + shortId(id)).start(() -> sendStdin(attach, payload, id));
            }
            try {
                docker.startContainerCmd(id).exec();
            } catch (DockerException e) {
                int status = unrunnableExitCode(engineMessage(e));
                if (status < 0) {
                    throw engineFailure("start container " + shortId(id), e);
                }
                // The function's own executable cannot be run: its failure, reported as docker run does.
                return new RunOnceResult(Termination.EXITED, status, new byte[0], false, engineMessage(e), imagePull,
                        Duration.ofNanos(System.nanoTime() - createStarted), Duration.ZERO, -1);
            } catch (RuntimeException e) {
                throw engineFailure("start container " + shortId(id), e);
            }
            long started = System.nanoTime();
            Duration createStart = Duration.ofNanos(started - createStarted);
            long deadline = started + request.timeout().toNanos();

            AtomicReference<IOException> readFailure = new AtomicReference<>();
            Thread reader = Thread.ofVirtual().name("granda-output-" + shortId(id)).start(() -> {
                try {
                    attach.copyOutput(stdout, stderr);
                } catch (IOException e) {
                    readFailure.set(e);
                }
            });

            // The stream ends when the process has exited; then the engine's wait gives its exit code.
            Integer exitCode = null;
            if (joinUntil(reader, deadline)) {
                if (readFailure.get() != null) {
                    throw new BackendUnavailableException("Docker engine at " + host + " broke the output stream of "
                            + "container " + shortId(id) + ": " + readFailure.get().getMessage(), readFailure.get());
                }
                // A process may close its output and keep running: the wait is bounded by the same deadline.
                exitCode = awaitExit(id, deadline);
            }
            if (exitCode == null) {
                // Timed out: kill by removing (teardown's own timeout), then keep whatever output arrived.
                removed.set(remove(id));
                Duration run = Duration.ofNanos(System.nanoTime() - started);
                attach.close();
                boolean drained = joinUninterruptibly(reader, config.teardownTimeout());
                LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("invocation", request.invocationId())
                        .addKeyValue("timeoutMs", request.timeout().toMillis()).log("call timed out");
                return new RunOnceResult(Termination.TIMED_OUT, InvocationResult.NO_EXIT_CODE,
                        drained ? stdout.toByteArray() : new byte[0], drained && stdout.truncated(),
                        drained ? stderr.asString() : "", imagePull, createStart, run, -1);
            }
            Duration run = Duration.ofNanos(System.nanoTime() - started);
            Termination termination = exitCode == EXIT_KILLED && oomKilled(id)
                    ? Termination.OUT_OF_MEMORY : Termination.EXITED;
            LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("invocation", request.invocationId())
                    .addKeyValue("exitCode", exitCode).addKeyValue("termination", termination)
                    .addKeyValue("runMs", run.toMillis()).log("call ended");
            return new RunOnceResult(termination, exitCode, stdout.toByteArray(), stdout.truncated(),
                    stderr.asString(), imagePull, createStart, run, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendUnavailableException("interrupted while running container " + shortId(id), e);
        } finally {
            attach.close();
        }
    }

    private static void sendStdin(AttachStream attach, byte[] payload, String id) {
        try {
            attach.sendStdin(payload);
        } catch (IOException e) {
            // Normal when the process exits without reading all of stdin, or when the container is removed.
            LOG.atTrace().addKeyValue("container", shortId(id)).addKeyValue("reason", e.getMessage())
                    .log("stdin not fully delivered");
        }
    }

    /** @return the exit code, or null when the process was still running at the deadline */
    private Integer awaitExit(String id, long deadline) throws InterruptedException {
        long remainingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        try {
            WaitCallback callback = docker.waitContainerCmd(id).exec(new WaitCallback());
            if (!callback.awaitCompletion(remainingMs, TimeUnit.MILLISECONDS)) {
                return null;
            }
            callback.rethrowFailure();
            if (callback.statusCode == null) {
                throw new BackendUnavailableException("Docker engine at " + host + " ended the wait for container "
                        + shortId(id) + " without an exit code");
            }
            return callback.statusCode;
        } catch (RuntimeException e) {
            throw e instanceof BackendUnavailableException b ? b : engineFailure("wait for container " + shortId(id), e);
        }
    }

    private boolean oomKilled(String id) {
        try {
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id).exec().getState();
            return state != null && Boolean.TRUE.equals(state.getOOMKilled());
        } catch (RuntimeException e) {
            throw engineFailure("inspect container " + shortId(id), e);
        }
    }

    /**
     * Force-removes a container (killing its process) on a thread of its own, waiting at most the teardown timeout,
     * and never giving up early because the caller was interrupted. A container that could not be removed keeps
     * its owner label, so {@link #reapLeftovers()} finds it later.
     *
     * @return true when the container is gone
     */
    private boolean remove(String id) {
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Thread remover = Thread.ofVirtual().name("granda-remove-" + shortId(id)).start(() -> {
            try {
                docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
            } catch (NotFoundException e) {
                // Already gone: what we wanted.
            } catch (RuntimeException e) {
                failure.set(e);
            }
        });
        if (!joinUninterruptibly(remover, config.teardownTimeout())) {
            LOG.atWarn().addKeyValue("container", shortId(id)).addKeyValue("timeout", config.teardownTimeout())
                    .log("container removal timed out; it will be reaped later");
            return false;
        }
        if (failure.get() != null) {
            LOG.atWarn().setCause(failure.get()).addKeyValue("container", shortId(id))
                    .log("container removal failed; it will be reaped later");
            return false;
        }
        return true;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Removes every container labelled {@value #LABEL_OWNER}={@code ownerId}, running or not, in parallel; a
     * container that disappears meanwhile is not counted. Containers of other owners are never touched.
     */
    @Override
    public int reapLeftovers() {
        checkOpen();
        return reap();
    }

    private int reap() {
        List<Container> leftovers;
        try {
            leftovers = docker.listContainersCmd()
                    .withShowAll(true)
                    .withLabelFilter(Map.of(LABEL_OWNER, config.ownerId()))
                    .exec();
        } catch (RuntimeException e) {
            throw engineFailure("list containers", e);
        }
        List<Thread> removers = new ArrayList<>();
        AtomicInteger removed = new AtomicInteger();
        for (Container c : leftovers) {
            // The list is filtered by the engine; checking again costs nothing and guards anyone else's containers.
            if (c.getLabels() == null || !config.ownerId().equals(c.getLabels().get(LABEL_OWNER))) {
                continue;
            }
            removers.add(Thread.ofVirtual().name("granda-reap-" + shortId(c.getId())).start(() -> {
                if (remove(c.getId())) {
                    removed.incrementAndGet();
                }
            }));
        }
        for (Thread remover : removers) {
            // Each removal is bounded by the teardown timeout already; this only waits for them.
            joinUninterruptibly(remover, config.teardownTimeout().plusSeconds(1));
        }
        if (removed.get() > 0) {
            LOG.atInfo().addKeyValue("owner", config.ownerId()).addKeyValue("containers", removed.get())
                    .log("removed leftover containers");
        }
        return removed.get();
    }

    @Override
    public ComponentHealth health() {
        if (closed.get()) {
            return new ComponentHealth(false, "Docker backend is closed");
        }
        try {
            docker.pingCmd().exec();
            Version version = docker.versionCmd().exec();
            return new ComponentHealth(true, "Docker " + version.getVersion() + " (API " + version.getApiVersion()
                    + ") at " + host);
        } catch (RuntimeException e) {
            return new ComponentHealth(false, "Docker engine at " + host + " is unreachable: " + rootMessage(e));
        }
    }

    /**
     * Removes every container of this owner (best effort: an unreachable engine is logged, not thrown), then closes
     * the connections to the engine. Idempotent; calls made after it throw {@link BackendUnavailableException}.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            reap();
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("owner", config.ownerId()).addKeyValue("reason", e.getMessage())
                    .log("could not remove this owner's containers at close");
        }
        try {
            docker.close();
        } catch (IOException | RuntimeException e) {
            LOG.atDebug().addKeyValue("reason", e.getMessage()).log("closing the Docker client failed");
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new BackendUnavailableException("Docker backend for owner '" + config.ownerId() + "' is closed");
        }
    }

    /**
     * Which start failures are the function's own fault: its executable cannot be run. Mirrors the {@code docker}
     * CLI, which exits 127 for a missing executable and 126 for one that cannot be invoked.
     *
     * @return 127, 126, or -1 when the failure is the engine's
     */
    static int unrunnableExitCode(String engineMessage) {
        if (engineMessage == null || !engineMessage.contains("exec:") && !engineMessage.contains("exec ")) {
            return -1;
        }
        if (engineMessage.contains("executable file not found") || engineMessage.contains("no such file or directory")) {
            return 127;
        }
        return 126;
    }

    private BackendUnavailableException engineFailure(String action, RuntimeException e) {
        if (e instanceof DockerException de) {
            return new BackendUnavailableException("Docker engine at " + host + " failed to " + action + ": HTTP "
                    + de.getHttpStatus() + ": " + engineMessage(de), e);
        }
        return new BackendUnavailableException("Docker engine at " + host + " is unreachable (while trying to "
                + action + "): " + rootMessage(e), e);
    }

    /** @return the engine's own message, without docker-java's "Status 500: {json}" wrapping */
    static String engineMessage(DockerException e) {
        String raw = e.getMessage() == null ? "" : e.getMessage();
        Matcher m = ENGINE_MESSAGE.matcher(raw);
        return m.find() ? m.group(1).replace("\\\"", "\"").replace("\\\\", "\\") : raw.strip();
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }

    /** @return false when the thread was still alive at the deadline */
    private static boolean joinUntil(Thread thread, long deadlineNanos) throws InterruptedException {
        long remaining = deadlineNanos - System.nanoTime();
        return remaining > 0 ? thread.join(Duration.ofNanos(remaining)) : !thread.isAlive();
    }

    /** Teardown waits are not cut short by an interrupt; the interrupt is kept for the caller. */
    private static boolean joinUninterruptibly(Thread thread, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    long remaining = deadline - System.nanoTime();
                    return remaining > 0 ? thread.join(Duration.ofNanos(remaining)) : !thread.isAlive();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // Releasing a finished stream cannot fail in a way that matters.
        }
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
