package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Image;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.Ulimit;
import com.github.dockerjava.api.model.PullResponseItem;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.api.model.WaitResponse;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.granda.core.BackendUnavailableException;
import io.granda.core.FunctionNotReadyException;
import io.granda.core.ImageUnavailableException;
import io.granda.core.InvocationResult;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.BuildRequest;
import io.granda.core.build.BuiltImage;
import io.granda.core.build.ImageBuilder;
import io.granda.core.build.StoredImage;
import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.CpuMeter;
import io.granda.core.spi.HotInstance;
import io.granda.core.spi.InstanceSpec;
import io.granda.core.spi.PreparedImage;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import io.granda.core.spi.RunOnceResult.Termination;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Docker backend: run mode (one container per call, the original Granda contract, which works with any image)
 * and hot instances (a long-lived container serving HTTP/1.1 on a unix socket, see docs/hot-functions.md).
 *
 * <h2>Run mode</h2>
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
 * default; with a local engine that means networking disabled, see {@link #applyNetwork}), a memory limit without
 * swap, and the request's environment.
 *
 * <p>Round trips per call: create, attach (on a connection of its own), start, wait, remove; plus an inspect only
 * when the exit code is 137 (killed), to tell the out-of-memory killer from any other kill. Docker records an OOM
 * kill only if its containerd shim saw it: on Docker 20.10 an OOM in the very first milliseconds of a container,
 * while the engine is busy starting many others, goes unrecorded. So with a local engine an {@link OomKillWatch}
 * also reads the kernel's own count of OOM kills in the container's memory cgroup while the call runs; a 137 is
 * out of memory when either says so.
 *
 * <h2>Hot instances</h2>
 *
 * <p>{@link #startInstance(InstanceSpec)} gives each instance a private directory {@code <runDirectory>/<instanceId>}
 * (see {@link DockerBackendConfig#runDirectory()}), bind-mounts it at {@code /granda} and sets
 * {@code GRANDA_SOCKET=/granda/fn.sock}, {@code GRANDA_FUNCTION}, {@code GRANDA_REVISION} and
 * {@code GRANDA_INSTANCE} on top of the function's environment; no stdin, no TTY, the image's own command. Its
 * containers carry the run-mode labels except the invocation, plus {@value #LABEL_INSTANCE} and
 * {@value #LABEL_MODE}={@value #MODE_HOT}. After the start it polls the host side of the socket (see
 * {@link SocketReadiness}) while an engine wait in the background ({@link ContainerExitWatch}) reports a process that
 * exits first; an instance that is not ready is removed with its directory, after its log's end was read.
 * {@link #destroyInstance(HotInstance)} force-removes the container (SIGKILL) and deletes the directory. Hot
 * instances need the engine on this host: the bind mount names a path of this machine's file system.
 *
 * <p>{@link #pauseInstance(HotInstance)} and {@link #resumeInstance(HotInstance)} work (the engine's cgroup
 * freezer), but {@link BackendCapability#PAUSE} is not declared, so the pool does not use them. Measured here
 * ({@code DockerHotStartMeasurement}): an idle hot echo instance used 0 ns of CPU in 10 s by its cgroup's
 * {@code cpuacct.usage} (a process blocked in {@code accept}/{@code read} costs nothing to leave running), so
 * pausing saves nothing, while an unpause adds a median 12-17 ms to the next call, which takes 0.07-0.11 ms when
 * warm; a pause costs as much again in engine work and frees no memory.
 *
 * <h2>Image builds</h2>
 *
 * <p>{@link #build(BuildRequest, Consumer)} builds a function's image with the engine's classic builder (see
 * {@link DockerImageBuild} for what the engine sends and how a timeout is cleaned up). The image carries the
 * request's labels plus {@value #LABEL_OWNER}; its build steps run without network unless the request allows it.
 *
 * <p>Thread-safe: any number of calls, instance starts and builds may run at once (each blocks its own thread;
 * virtual threads are welcome).
 */
public final class DockerBackend implements Backend, ImageBuilder {

    /** Label holding the owner id of the backend that created the container. */
    public static final String LABEL_OWNER = "io.granda.owner";
    /** Label holding the function's name. */
    public static final String LABEL_FUNCTION = "io.granda.function";
    /** Label holding the function's stable id. */
    public static final String LABEL_FUNCTION_ID = "io.granda.function-id";
    /** Label holding the revision being run. */
    public static final String LABEL_REVISION = "io.granda.revision";
    /** Label holding the invocation id of the call the container serves (run mode). */
    public static final String LABEL_INVOCATION = "io.granda.invocation";
    /** Label holding the instance id of a hot instance. */
    public static final String LABEL_INSTANCE = "io.granda.instance";
    /** Label saying how the container runs its function; {@value #MODE_HOT} for hot instances. */
    public static final String LABEL_MODE = "io.granda.mode";
    /** The value of {@value #LABEL_MODE} on hot instances. */
    public static final String MODE_HOT = "hot";
    /** Where an instance's private directory is mounted in its container. */
    static final String INSTANCE_MOUNT = "/granda";
    /** The socket path a hot instance is told to listen on, inside its container. */
    static final String CONTAINER_SOCKET = INSTANCE_MOUNT + "/" + DockerBackendConfig.SOCKET_NAME;

    private static final Logger LOG = LoggerFactory.getLogger(DockerBackend.class);
    private static final Set<BackendCapability> CAPABILITIES = Collections.unmodifiableSet(EnumSet.of(
            BackendCapability.RUN_ONCE, BackendCapability.HOT_INSTANCES, BackendCapability.PULL_IMAGES));
    /** How much of the end of its output a hot instance that failed to start reports. */
    static final int START_FAILURE_LOG_BYTES = 4096;
    /** Instance ids name directories: keep them to characters that are safe in a path and a label. */
    private static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");
    /** The variables Granda sets on a hot instance, whatever the function's env says. */
    private static final Set<String> RESERVED_ENV =
            Set.of("GRANDA_SOCKET", "GRANDA_FUNCTION", "GRANDA_REVISION", "GRANDA_INSTANCE");
    /** The network mode of a function without network. */
    private static final String NO_NETWORK = "none";
    /** Where a container without network finds the hosts file Granda gives it. */
    private static final String HOSTS_MOUNT = "/etc/hosts";
    /** The host's /proc and cgroup mount, where a local engine's containers are accounted. */
    private static final Path PROC = Path.of("/proc");
    private static final Path CGROUP = Path.of("/sys/fs/cgroup");
    /** Longest the end of an OOM-kill watch is waited for. */
    private static final Duration OOM_WATCH_FINISH = Duration.ofMillis(500);
    /** Longest {@link #killedForMemory} waits for a hot instance's exit, when only the engine can say. */
    private static final Duration MEMORY_VERDICT_WAIT = Duration.ofSeconds(2);
    /** 128 + SIGKILL: what a process killed by the kernel (OOM) or by a force removal exits with. */
    private static final int EXIT_KILLED = 137;
    /** Linux's MAX_ARG_STRLEN: the longest single argument, including its terminating NUL. */
    static final int MAX_ARGUMENT_BYTES = 128 * 1024;
    private static final Pattern ENGINE_MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final DockerBackendConfig config;
    private final URI host;
    private final DockerClient docker;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final RunDirectory runDirectory;
    private final InvocationCgroups invocationCgroups;
    /** Whether run-mode calls get cgroups of their own; null until the engine was asked. */
    private volatile Boolean callGroups;

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
        this.runDirectory = new RunDirectory(config.runDirectory(), config.ownerId());
        this.invocationCgroups = new InvocationCgroups(CGROUP, config.ownerId());
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
     * {@code docker run} reports it. {@code cpuMicros} is the CPU time of every process of the container, read from
     * the call's own cgroup ({@link InvocationCgroups}) with a local {@code cgroupfs} engine; elsewhere {@code -1}.
     */
    @Override
    public RunOnceResult runOnce(RunOnceRequest request) {
        checkOpen();
        Duration imagePull = Duration.ZERO;
        String callGroup = callGroupsUsable() ? invocationCgroups.parentOf(request.invocationId()) : null;
        long createStarted = System.nanoTime();
        String id;
        try {
            id = create(request, callGroup);
        } catch (NotFoundException e) {
            // The only 404 of a create is a missing image: pull it as prepare() would, then create again.
            imagePull = prepare(request.image()).pullTime();
            createStarted = System.nanoTime();
            try {
                id = create(request, callGroup);
            } catch (NotFoundException again) {
                throw new ImageUnavailableException("image '" + request.image() + "' vanished right after its pull",
                        again);
            }
        }
        AtomicBoolean removed = new AtomicBoolean();
        try {
            return run(id, request, callGroup, imagePull, createStarted, removed);
        } finally {
            boolean gone = removed.get() || remove(id);
            if (callGroup != null && gone) {
                invocationCgroups.remove(callGroup);
            }
        }
    }

    /**
     * Whether run-mode calls get a cgroup of their own ({@link InvocationCgroups}): a local engine with the
     * {@code cgroupfs} driver, on a host whose cgroup mount is here. Asked of the engine once; not remembered when
     * the engine cannot answer.
     */
    private boolean callGroupsUsable() {
        Boolean known = callGroups;
        if (known != null) {
            return known;
        }
        if (!engineIsLocal() || !Files.isDirectory(CGROUP)) {
            callGroups = false;
            return false;
        }
        try {
            boolean usable = "cgroupfs".equals(docker.infoCmd().exec().getCGroupDriver());
            callGroups = usable;
            LOG.atDebug().addKeyValue("usable", usable).log("per-call cgroups for run-mode CPU time");
            return usable;
        } catch (RuntimeException e) {
            LOG.atDebug().addKeyValue("reason", e.getMessage()).log("cannot ask the engine for its cgroup driver");
            return false;
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

    /** @param callGroup the call's cgroup parent, or null for the engine's default */
    private String create(RunOnceRequest request, String callGroup) {
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
                .withHostConfig(hostConfig(memory, request.functionName()));
        if (callGroup != null) {
            cmd.getHostConfig().withCgroupParent(callGroup);
        }
        applyUser(cmd);
        applyNetwork(cmd, request.functionName());
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
    private RunOnceResult run(String id, RunOnceRequest request, String callGroup, Duration imagePull,
            long createStarted, AtomicBoolean removed) {
        HeadBuffer stdout = new HeadBuffer(request.maxOutputBytes());
        TailBuffer stderr = new TailBuffer(request.maxLogBytes());
        AttachStream attach;
        OomKillWatch oomWatch = null;
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
            if (engineIsLocal()) {
                oomWatch = OomKillWatch.start(id, PROC, CGROUP).orElse(null);
            }
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
                boolean drained = Threads.joinUninterruptibly(reader, config.teardownTimeout());
                LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("invocation", request.invocationId())
                        .addKeyValue("timeoutMs", request.timeout().toMillis()).log("call timed out");
                return new RunOnceResult(Termination.TIMED_OUT, InvocationResult.NO_EXIT_CODE,
                        drained ? stdout.toByteArray() : new byte[0], drained && stdout.truncated(),
                        drained ? stderr.asString() : "", imagePull, createStart, run,
                        removed.get() ? cpuMicrosOf(callGroup) : -1);
            }
            Duration run = Duration.ofNanos(System.nanoTime() - started);
            Termination termination = exitCode == EXIT_KILLED && (oomKillSeen(oomWatch) || oomKilled(id))
                    ? Termination.OUT_OF_MEMORY : Termination.EXITED;
            LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("invocation", request.invocationId())
                    .addKeyValue("exitCode", exitCode).addKeyValue("termination", termination)
                    .addKeyValue("runMs", run.toMillis()).log("call ended");
            return new RunOnceResult(termination, exitCode, stdout.toByteArray(), stdout.truncated(),
                    stderr.asString(), imagePull, createStart, run, cpuMicrosOf(callGroup));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendUnavailableException("interrupted while running container " + shortId(id), e);
        } finally {
            attach.close();
            if (oomWatch != null) {
                oomWatch.close();
            }
        }
    }

    /** @return the CPU time of the call's processes, all exited by now; -1 without a call group */
    private long cpuMicrosOf(String callGroup) {
        return callGroup == null ? -1 : invocationCgroups.cpuMicros(callGroup);
    }

    /**
     * Whether the engine runs on this machine (a {@code unix://} address): it then sees this machine's files, and its
     * containers' cgroups are this machine's to read.
     */
    private boolean engineIsLocal() {
        return "unix".equals(host.getScheme());
    }

    /**
     * Whether the watch saw the kernel kill a process of the container for memory. By the time the exit is reported
     * the cgroup is gone, so the watch's last read is done at once; the wait only covers its thread being scheduled.
     */
    private boolean oomKillSeen(OomKillWatch watch) {
        return watch != null && watch.finish(OOM_WATCH_FINISH);
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
        if (!Threads.joinUninterruptibly(remover, config.teardownTimeout())) {
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

    // ---- hot instances ----

    /**
     * {@inheritDoc}
     *
     * <p>Steps: the instance's directory, create (pulling a missing image first, as {@link #runOnce} does), start,
     * then the wait for readiness. {@code createStart} spans create and start, {@code init} the start's return until
     * the socket accepted a connection. The start timeout counts from the start's return: pulling and creating are
     * the platform's time, not the function's. A process whose executable cannot be run at all (the engine's start
     * fails with "exec: ...") is the function's fault too: {@link FunctionNotReadyException} with the engine's
     * reason.
     *
     * @throws IllegalArgumentException when the instance id is not a safe directory name or makes the socket path
     *                                  too long
     */
    @Override
    public HotInstance startInstance(InstanceSpec spec) {
        checkOpen();
        Path socket = socketOf(spec.instanceId());
        Path dir;
        try {
            dir = runDirectory.createInstanceDirectory(spec.instanceId(),
                    config.hardening().numericUid(), config.hardening().numericGid());
        } catch (IOException e) {
            throw new BackendUnavailableException("cannot make the directory of instance " + spec.instanceId()
                    + " under " + runDirectory.root() + ": " + e.getMessage(), e);
        }
        String id = null;
        boolean ready = false;
        try {
            Duration imagePull = Duration.ZERO;
            long createStarted = System.nanoTime();
            try {
                id = createHot(spec, dir);
            } catch (NotFoundException e) {
                imagePull = prepare(spec.image()).pullTime();
                createStarted = System.nanoTime();
                try {
                    id = createHot(spec, dir);
                } catch (NotFoundException again) {
                    throw new ImageUnavailableException("image '" + spec.image() + "' vanished right after its pull",
                            again);
                }
            }
            startHot(id, spec);
            long started = System.nanoTime();
            Duration createStart = Duration.ofNanos(started - createStarted);
            SocketReadiness.State state = SocketReadiness.State.READY;
            int exitCode = 0;
            // Measured here: the engine's start returns after the process runs, and a quick process has its socket
            // by then; only a slower one needs the exit watch (whose engine request costs ~0.5 ms to set up).
            if (!SocketReadiness.readyNow(socket)) {
                try (ContainerExitWatch exit = ContainerExitWatch.start(docker, id)) {
                    state = SocketReadiness.await(socket, started + spec.startTimeout().toNanos(),
                            () -> exit.exitCode() != null);
                    exitCode = state == SocketReadiness.State.EXITED ? exit.exitCode() : 0;
                } catch (RuntimeException e) {
                    throw engineFailure("watch container " + shortId(id), e);
                }
            }
            Duration init = Duration.ofNanos(System.nanoTime() - started);
            if (state != SocketReadiness.State.READY) {
                throw notReady(spec, id, state, exitCode, socket);
            }
            if (closed.get()) {
                // close() may have reaped before this container existed: do not leave it running.
                throw closedException();
            }
            ready = true;
            LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("function", spec.functionName())
                    .addKeyValue("instance", spec.instanceId()).addKeyValue("createStartMs", millis(createStart))
                    .addKeyValue("initMs", millis(init)).log("hot instance ready");
            return new HotInstance(spec.instanceId(), id, socket, imagePull, createStart, init);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendUnavailableException("interrupted while starting instance " + spec.instanceId(), e);
        } finally {
            if (!ready) {
                if (id != null) {
                    remove(id);
                }
                runDirectory.deleteInstanceDirectory(spec.instanceId());
            }
        }
    }

    /** @return the host path of the instance's socket, after checking the id can name its directory */
    private Path socketOf(String instanceId) {
        if (!INSTANCE_ID.matcher(instanceId).matches()) {
            throw new IllegalArgumentException("instance id '" + instanceId + "' must be letters, digits, '_' or '-',"
                    + " starting with a letter or digit");
        }
        Path socket = runDirectory.instanceDirectory(instanceId).resolve(DockerBackendConfig.SOCKET_NAME);
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > DockerBackendConfig.MAX_SOCKET_PATH_BYTES) {
            throw new IllegalArgumentException("instance id '" + instanceId + "' is too long: its socket " + socket
                    + " would be " + bytes + " bytes, the limit is " + DockerBackendConfig.MAX_SOCKET_PATH_BYTES);
        }
        return socket;
    }

    /**
     * The host config of every container, run mode and hot mode: the network mode (none, unless the operator granted
     * this function egress), the memory limit with no swap and the lock-down of {@link DockerBackendConfig.Hardening}.
     */
    HostConfig hostConfig(long memory, String functionName) {
        DockerBackendConfig.Hardening h = config.hardening();
        HostConfig host = HostConfig.newHostConfig()
                .withMemory(memory)
                // Equal to the memory limit: no swap, so a hog meets the OOM killer instead of crawling.
                .withMemorySwap(memory)
                .withNetworkMode(config.networkModeFor(functionName))
                .withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE,
                        Map.of("max-size", h.logMaxSize(), "max-file", Integer.toString(h.logMaxFiles()))));
        if (h.readOnlyRootfs()) {
            host.withReadonlyRootfs(true);
        }
        if (h.tmpSizeMb() > 0) {
            host.withTmpFs(Map.of("/tmp", h.tmpOptions()));
        }
        if (h.dropAllCapabilities()) {
            host.withCapDrop(Capability.ALL);
        }
        if (h.noNewPrivileges()) {
            host.withSecurityOpts(List.of("no-new-privileges"));
        }
        if (h.pidsLimit() > 0) {
            host.withPidsLimit(h.pidsLimit());
        }
        if (h.cpus() > 0) {
            host.withNanoCPUs(Math.round(h.cpus() * 1_000_000_000d));
        }
        if (h.nofileLimit() > 0) {
            host.withUlimits(List.of(new Ulimit("nofile", h.nofileLimit(), h.nofileLimit())));
        }
        return host;
    }

    /**
     * A function without network (mode {@code none}) on a local engine gets none at all: the container is created
     * with networking disabled, so the engine sets up no network sandbox for it. That sandbox is most of what a
     * container start costs the engine besides the runtime (Docker 20.10 runs its network hook, a re-execution of the
     * whole daemon binary, in every container it starts with a network, even {@code none}); without it a cold start
     * here takes about half the time. The container still has its own network namespace with only a loopback
     * interface, as with {@code none}. The engine then writes no {@code /etc/hosts}, so Granda mounts the same
     * loopback names read-only from {@link RunDirectory#hostsFile()}. A remote engine cannot see that file: its
     * containers keep network mode {@code none} and the engine's own hosts file.
     */
    private void applyNetwork(CreateContainerCmd cmd, String functionName) {
        if (!NO_NETWORK.equals(config.networkModeFor(functionName)) || !engineIsLocal()) {
            return;
        }
        Path hosts;
        try {
            hosts = runDirectory.hostsFile();
        } catch (IOException e) {
            throw new BackendUnavailableException("cannot write the hosts file for containers without network under "
                    + runDirectory.root() + ": " + e.getMessage(), e);
        }
        HostConfig host = cmd.getHostConfig();
        List<Mount> mounts = new ArrayList<>(host.getMounts() == null ? List.of() : host.getMounts());
        // A mount, not a bind: should the file be gone by then, the engine refuses instead of making a directory there.
        mounts.add(new Mount().withType(MountType.BIND).withSource(hosts.toString()).withTarget(HOSTS_MOUNT)
                .withReadOnly(true));
        host.withMounts(mounts);
        cmd.withNetworkDisabled(true);
    }

    private void applyUser(CreateContainerCmd cmd) {
        String user = config.hardening().user();
        if (user != null && !user.isBlank()) {
            cmd.withUser(user.strip());
        }
    }

    private String createHot(InstanceSpec spec, Path dir) {
        List<String> env = new ArrayList<>(spec.env().size() + 4);
        // A function's env cannot redirect the socket or fake its identity: a C getenv() takes the first of two.
        spec.env().forEach((k, v) -> {
            if (!RESERVED_ENV.contains(k)) {
                env.add(k + "=" + v);
            }
        });
        env.add("GRANDA_SOCKET=" + CONTAINER_SOCKET);
        env.add("GRANDA_FUNCTION=" + spec.functionName());
        env.add("GRANDA_REVISION=" + spec.revision());
        env.add("GRANDA_INSTANCE=" + spec.instanceId());
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(LABEL_OWNER, config.ownerId());
        labels.put(LABEL_FUNCTION, spec.functionName());
        labels.put(LABEL_FUNCTION_ID, spec.functionId());
        labels.put(LABEL_REVISION, Long.toString(spec.revision()));
        labels.put(LABEL_INSTANCE, spec.instanceId());
        labels.put(LABEL_MODE, MODE_HOT);
        long memory = spec.memoryMb() * 1024L * 1024L;
        CreateContainerCmd cmd = docker.createContainerCmd(spec.image())
                .withLabels(labels)
                .withEnv(env)
                .withTty(false)
                .withStdinOpen(false)
                .withAttachStdin(false)
                // Its own directory is the one bind mount from the host (with the hosts file below): never the Docker
                // socket.
                .withHostConfig(hostConfig(memory, spec.functionName())
                        .withBinds(new Bind(dir.toString(), new Volume(INSTANCE_MOUNT))));
        applyUser(cmd);
        applyNetwork(cmd, spec.functionName());
        try {
            String id = cmd.exec().getId();
            LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("function", spec.functionName())
                    .addKeyValue("instance", spec.instanceId()).log("created hot container");
            return id;
        } catch (NotFoundException e) {
            throw e;
        } catch (RuntimeException e) {
            throw engineFailure("create a container from '" + spec.image() + "'", e);
        }
    }

    private void startHot(String id, InstanceSpec spec) {
        try {
            docker.startContainerCmd(id).exec();
        } catch (DockerException e) {
            String reason = engineMessage(e);
            if (unrunnableExitCode(reason) < 0) {
                throw engineFailure("start container " + shortId(id), e);
            }
            // The image's own executable cannot be run: the function's fault, as a crash at start would be.
            throw new FunctionNotReadyException("function '" + spec.functionName() + "' could not start: " + reason,
                    reason);
        } catch (RuntimeException e) {
            throw engineFailure("start container " + shortId(id), e);
        }
    }

    /** Reads the log's end (before the container goes) and says what went wrong. */
    private FunctionNotReadyException notReady(InstanceSpec spec, String id, SocketReadiness.State state,
            int exitCode, Path socket) {
        String logTail = ContainerLogs.tail(docker, id, START_FAILURE_LOG_BYTES, config.teardownTimeout());
        String message;
        if (state == SocketReadiness.State.EXITED) {
            if (exitCode == ContainerExitWatch.UNKNOWN_EXIT) {
                message = "function '" + spec.functionName() + "' ended before it became ready (its container is"
                        + " gone)";
            } else {
                message = "function '" + spec.functionName() + "' exited with code " + exitCode
                        + " before it became ready";
                if (exitCode == EXIT_KILLED && oomKilledQuietly(id)) {
                    message += " (killed for exceeding its memory limit of " + spec.memoryMb() + " MiB)";
                }
            }
        } else {
            message = "function '" + spec.functionName() + "' did not become ready within "
                    + seconds(spec.startTimeout());
            if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                message += ": it never created " + CONTAINER_SOCKET;
            } else {
                // Refused: bound but not listening. Permission denied: the process's umask left the socket
                // unwritable for Granda's user (see docs/hot-functions.md).
                String why = SocketReadiness.connectFailure(socket);
                message += ": " + CONTAINER_SOCKET + " exists but did not accept a connection"
                        + (why == null ? "" : " (" + why + ")");
            }
        }
        LOG.atInfo().addKeyValue("container", shortId(id)).addKeyValue("function", spec.functionName())
                .addKeyValue("instance", spec.instanceId()).addKeyValue("reason", message)
                .log("hot instance not ready; removing it");
        return new FunctionNotReadyException(message, logTail);
    }

    private boolean oomKilledQuietly(String id) {
        try {
            return oomKilled(id);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Force-removes the container (SIGKILL, then removal) with {@link DockerBackendConfig#teardownTimeout()},
     * then deletes the instance's directory. After {@link #close()} only the directory is deleted: close already
     * removed the containers.
     */
    @Override
    public void destroyInstance(HotInstance instance) {
        if (!closed.get()) {
            remove(instance.backendRef());
        }
        if (INSTANCE_ID.matcher(instance.instanceId()).matches()) {
            runDirectory.deleteInstanceDirectory(instance.instanceId());
        }
        LOG.atDebug().addKeyValue("container", shortId(instance.backendRef()))
                .addKeyValue("instance", instance.instanceId()).log("hot instance destroyed");
    }

    /**
     * {@inheritDoc}
     *
     * <p>From the engine's log of the container (stdout and stderr as written), bounded by the teardown timeout; empty
     * once the container is removed, or when the engine keeps no log for it.
     */
    @Override
    public String logTail(HotInstance instance, int maxBytes) {
        if (closed.get()) {
            return "";
        }
        return ContainerLogs.tail(docker, instance.backendRef(), maxBytes, config.teardownTimeout());
    }

    /**
     * {@inheritDoc}
     *
     * <p>First the kernel's count of OOM kills in the container's memory cgroup ({@link CgroupOomCounter}), read at
     * once: the cgroup outlives the process by some milliseconds, and the count is exact, a kill of a child process
     * included. When the cgroup cannot be read (already gone, a remote engine, an unknown layout), the engine's
     * record, once the container has stopped: waited for at most {@link #MEMORY_VERDICT_WAIT}. Never throws.
     */
    @Override
    public boolean killedForMemory(HotInstance instance) {
        if (closed.get()) {
            return false;
        }
        String id = instance.backendRef();
        if (engineIsLocal()) {
            Optional<CgroupOomCounter> counter = CgroupOomCounter.find(id, 0, PROC, CGROUP)
                    .or(() -> CgroupOomCounter.find(id, runningPid(id), PROC, CGROUP));
            if (counter.isPresent()) {
                try (CgroupOomCounter c = counter.get()) {
                    long kills = c.kills();
                    if (kills >= 0) {
                        return kills > 0;
                    }
                }
            }
        }
        try {
            // The engine learns of the kill from its shim, which watched this instance since soon after it started.
            awaitExit(id, System.nanoTime() + MEMORY_VERDICT_WAIT.toNanos());
            return oomKilled(id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (RuntimeException e) {
            LOG.atDebug().addKeyValue("container", shortId(id)).addKeyValue("reason", e.getMessage())
                    .log("could not tell whether the instance was killed for memory");
            return false;
        }
    }

    /** @return the pid of the container's first process, 0 when it is not running or unknown */
    private long runningPid(String id) {
        try {
            Long pid = docker.inspectContainerCmd(id).exec().getState().getPidLong();
            return pid == null ? 0 : pid;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The container's cgroup CPU accounting ({@link CgroupCpuMeter}), found through its first process; only with an
     * engine on this host (a {@code unix://} address), since a remote engine's cgroups are not visible here.
     */
    @Override
    public CpuMeter cpuMeter(HotInstance instance) {
        if (!engineIsLocal() || closed.get()) {
            return CpuMeter.UNKNOWN;
        }
        try {
            Long pid = docker.inspectContainerCmd(instance.backendRef()).exec().getState().getPidLong();
            if (pid == null || pid <= 0) {
                return CpuMeter.UNKNOWN;
            }
            return CgroupCpuMeter.open(pid, PROC, CGROUP).orElse(CpuMeter.UNKNOWN);
        } catch (RuntimeException e) {
            LOG.atDebug().addKeyValue("container", shortId(instance.backendRef())).addKeyValue("reason", e.getMessage())
                    .log("no CPU meter for the container");
            return CpuMeter.UNKNOWN;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The engine's pause (the cgroup freezer). Pausing a paused instance is not an error. Not declared as a
     * capability; see the class comment.
     *
     * @throws BackendUnavailableException also when the instance is gone
     */
    @Override
    public void pauseInstance(HotInstance instance) {
        checkOpen();
        try {
            docker.pauseContainerCmd(instance.backendRef()).exec();
        } catch (DockerException e) {
            // Docker 20.10 answers 409 "... is already paused"; other versions have used 500 for the same.
            if (!engineMessage(e).contains("already paused")) {
                throw engineFailure("pause container " + shortId(instance.backendRef()), e);
            }
        } catch (RuntimeException e) {
            throw engineFailure("pause container " + shortId(instance.backendRef()), e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Resuming an instance that is not paused is not an error.
     *
     * @throws BackendUnavailableException also when the instance is gone
     */
    @Override
    public void resumeInstance(HotInstance instance) {
        checkOpen();
        try {
            docker.unpauseContainerCmd(instance.backendRef()).exec();
        } catch (DockerException e) {
            // Docker 20.10 answers 500 "... is not paused".
            if (!engineMessage(e).contains("is not paused")) {
                throw engineFailure("unpause container " + shortId(instance.backendRef()), e);
            }
        } catch (RuntimeException e) {
            throw engineFailure("unpause container " + shortId(instance.backendRef()), e);
        }
    }

    /** @return e.g. "10 s", "1.5 s", "250 ms" */
    static String seconds(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        return (ms % 1000 == 0 ? Long.toString(ms / 1000) : Double.toString(ms / 1000.0)) + " s";
    }

    private static double millis(Duration d) {
        return d.toNanos() / 1_000_000.0;
    }

    // ---- image builds ----

    /**
     * {@inheritDoc}
     *
     * <p>The context goes to the engine as a tar made in memory: regular files, mode 0755 for a file starting with
     * {@code #!} and 0644 for the others. The image is tagged {@code request.tag()} and labelled with the request's
     * labels plus {@value #LABEL_OWNER}. RUN steps get network mode {@code host} when {@code request.network()},
     * else {@code none}. Base images are not pulled ({@code pull=false}: they are made present beforehand, see
     * {@link #prepare(String)}); intermediate containers are removed, also after a failure. Each line goes to
     * {@code log} as the engine sends it, without the colour codes it wraps stderr in. At the timeout the build is
     * aborted and its running step's container removed, with {@link DockerBackendConfig#teardownTimeout()}.
     *
     * @throws BuildFailedException        also when the Dockerfile cannot be parsed (the engine's HTTP 400) and at
     *                                     the timeout ("the build did not finish within N s"), with the log so far
     * @throws BackendUnavailableException also after {@link #close()}
     * @throws IllegalArgumentException    when the engine finds the tag invalid (e.g. upper-case letters)
     */
    @Override
    public BuiltImage build(BuildRequest request, Consumer<String> log) {
        checkOpen();
        return new DockerImageBuild(docker, host, config, request, log).run();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Untags and deletes the image (and its untagged parent layers), bounded by
     * {@link DockerBackendConfig#teardownTimeout()}. An absent image is fine; an image still used by a container
     * stays, and is logged. Does nothing after {@link #close()}.
     */
    @Override
    public void removeImage(String tag) {
        if (closed.get() || tag == null || tag.isBlank()) {
            return;
        }
        DockerImageBuild.removeImage(docker, tag, config.teardownTimeout());
    }

    /**
     * {@inheritDoc}
     *
     * <p>The engine's images labelled {@value #LABEL_OWNER}={@code ownerId} that a build made (they carry
     * {@link BuildRequest#BUILD_ID_LABEL}), one entry per tag; another owner's images, and images users named for their
     * functions, are never listed. None after {@link #close()} or when the engine cannot be asked.
     */
    @Override
    public List<StoredImage> builtImages() {
        if (closed.get()) {
            return List.of();
        }
        try {
            List<StoredImage> images = new ArrayList<>();
            for (Image image : docker.listImagesCmd().withLabelFilter(Map.of(LABEL_OWNER, config.ownerId())).exec()) {
                Map<String, String> labels = image.getLabels() == null ? Map.of() : image.getLabels();
                if (!labels.containsKey(BuildRequest.BUILD_ID_LABEL) || image.getRepoTags() == null
                        || image.getCreated() == null) {
                    continue;
                }
                Instant created = Instant.ofEpochSecond(image.getCreated());
                for (String tag : image.getRepoTags()) {
                    if (!tag.equals("<none>:<none>")) {
                        images.add(new StoredImage(tag, created));
                    }
                }
            }
            return images;
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("reason", e instanceof DockerException de ? engineMessage(de) : e.getMessage())
                    .log("could not list built images");
            return List.of();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Removes every container labelled {@value #LABEL_OWNER}={@code ownerId}, running, paused or not, in
     * parallel; a container that disappears meanwhile is not counted. Containers of other owners are never touched.
     * Then deletes every instance directory left in this owner's run directory (not counted: a directory is not an
     * instance); other owners' run directories are never touched.
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
            Threads.joinUninterruptibly(remover, config.teardownTimeout().plusSeconds(1));
        }
        int directories = reapDirectories();
        if (callGroupsUsable()) {
            directories += invocationCgroups.removeLeftovers();
        }
        if (removed.get() > 0 || directories > 0) {
            LOG.atInfo().addKeyValue("owner", config.ownerId()).addKeyValue("containers", removed.get())
                    .addKeyValue("directories", directories).log("removed leftovers");
        }
        return removed.get();
    }

    private int reapDirectories() {
        try {
            return runDirectory.deleteLeftovers();
        } catch (IOException e) {
            LOG.atWarn().addKeyValue("directory", runDirectory.root()).addKeyValue("reason", e.toString())
                    .log("could not clean the run directory");
            return 0;
        }
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
     * Removes every container of this owner (best effort: an unreachable engine is logged, not thrown) and every
     * instance directory, deletes the run directory when nothing else is left in it, then closes the connections to
     * the engine. Idempotent; calls made after it throw {@link BackendUnavailableException}.
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
            // The directories go all the same: an instance without its socket is unreachable, and reaped later.
            reapDirectories();
        }
        runDirectory.deleteIfEmpty();
        if (Boolean.TRUE.equals(callGroups)) {
            invocationCgroups.removeOwnerGroupIfEmpty();
        }
        try {
            docker.close();
        } catch (IOException | RuntimeException e) {
            LOG.atDebug().addKeyValue("reason", e.getMessage()).log("closing the Docker client failed");
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw closedException();
        }
    }

    private BackendUnavailableException closedException() {
        return new BackendUnavailableException("Docker backend for owner '" + config.ownerId() + "' is closed");
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
