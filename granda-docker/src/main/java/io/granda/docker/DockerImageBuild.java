package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.BuildResponseItem;
import com.github.dockerjava.api.model.ResponseItem;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.granda.core.BackendUnavailableException;
import io.granda.core.build.BuildContext;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.BuildRequest;
import io.granda.core.build.BuiltImage;
import io.granda.core.build.TarWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One image build on the engine's classic builder (Docker 20.10, API 1.41; BuildKit is not used): the context goes
 * as an in-memory tar, the engine's output comes back as a stream of JSON messages and leaves here as lines.
 *
 * <p>What the engine sends, measured on 20.10.24: the output of every step as {@code stream} text, in pieces that
 * are not lines (a step's title and its newline come apart; a RUN's stderr comes wrapped in ANSI colour codes,
 * which are removed here); {@code status} messages while it pulls a base image (their progress-bar updates are
 * skipped, as {@code docker build} does without a terminal); and at the end either
 * {@code Successfully built <id>} / {@code Successfully tagged <tag>}, or one message with {@code errorDetail}:
 * "The command '/bin/sh -c ...' returned a non-zero code: N" for a failed RUN, "COPY failed: file not found in build
 * context ..." for a missing file, the registry's error for a base image it cannot pull. A Dockerfile it cannot parse
 * ("dockerfile parse error line 2: unknown instruction: FOO", "the Dockerfile (Dockerfile) cannot be empty") is
 * refused before any output with HTTP 400; a tag it cannot parse with HTTP 500 "invalid reference format"; other
 * refusals (a broken archive, its own failures) are HTTP 500.
 *
 * <p>The stream comes on a connection of its own (see {@code streamingClient()}) and arrives on docker-java's
 * thread, which hands it to the building thread through a queue: the log consumer sees every line in order, on the
 * caller's thread, as it comes, and the build's timeout is a plain timed wait. At the timeout the request is aborted:
 * the engine sees its client go, cancels the build, and kills and removes the step's container itself. The build's
 * containers do not carry the owner label (the engine gives them the labels of the image being built, and request
 * labels only reach the last step), so reaping cannot find them; instead this build removes, with the teardown
 * timeout, every container it saw created ({@code ---> Running in <id>}) and not yet removed ({@code Removing
 * intermediate container <id>}). The gap: a container created in the moment between the engine's message and the
 * abort relies on the engine's own cancellation alone.
 *
 * <p>Not thread-safe: one instance per build.
 */
final class DockerImageBuild {

    /** The engine's network mode for a build that may not reach the network. */
    static final String NETWORK_NONE = "none";
    /** The engine's network mode for a build that may: the host's, as {@code docker build --network host}. */
    static final String NETWORK_HOST = "host";
    /** The build log kept for {@link BuildFailedException#log()} is cut to its end beyond this many characters. */
    static final int MAX_LOG_CHARS = 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(DockerImageBuild.class);
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;?]*[ -/]*[@-~]");
    private static final Pattern RUNNING_IN = Pattern.compile("^ ---> Running in ([0-9a-f]{12,64})$");
    private static final Pattern REMOVING = Pattern.compile("^Removing intermediate container ([0-9a-f]{12,64})$");
    private static final Object END = new Object();

    private final DockerClient docker;
    private final URI host;
    private final DockerBackendConfig config;
    private final BuildRequest request;
    private final Consumer<String> log;
    private final ArrayDeque<String> kept = new ArrayDeque<>();
    private final StringBuilder partial = new StringBuilder();
    private final Set<String> liveContainers = new LinkedHashSet<>();
    private long keptChars;
    private long droppedLines;
    private boolean tagged;
    private boolean anyOutput;

    DockerImageBuild(DockerClient docker, URI host, DockerBackendConfig config, BuildRequest request,
            Consumer<String> log) {
        this.docker = docker;
        this.host = host;
        this.config = config;
        this.request = request;
        this.log = log;
    }

    /**
     * Runs the build to its end, its failure or its timeout.
     *
     * @see DockerBackend#build(BuildRequest, Consumer)
     */
    BuiltImage run() {
        byte[] archive = contextArchive(request.context());
        Map<String, String> labels = new LinkedHashMap<>(request.labels());
        labels.put(DockerBackend.LABEL_OWNER, config.ownerId());
        long started = System.nanoTime();
        long deadline = started + request.timeout().toNanos();
        BuildStream stream = new BuildStream();
        boolean ended = false;
        LOG.atDebug().addKeyValue("tag", request.tag()).addKeyValue("contextBytes", archive.length)
                .addKeyValue("network", request.network()).log("building image");
        DockerClient streaming = streamingClient();
        try {
            streaming.buildImageCmd()
                    .withTarInputStream(new ByteArrayInputStream(archive))
                    .withTags(Set.of(request.tag()))
                    .withLabels(labels)
                    .withNetworkMode(request.network() ? NETWORK_HOST : NETWORK_NONE)
                    // Base images are made present beforehand; a pull here would be a registry round trip per build.
                    .withPull(false)
                    .withRemove(true)
                    .withForcerm(true)
                    .exec(stream);
            while (true) {
                long remaining = deadline - System.nanoTime();
                Object event = remaining > 0 ? stream.events.poll(remaining, TimeUnit.NANOSECONDS) : null;
                if (event == null) {
                    throw timedOut(stream);
                }
                if (event == END) {
                    ended = true;
                    flushPartial();
                    break;
                }
                if (event instanceof Throwable failure) {
                    ended = true;
                    flushPartial();
                    throw streamFailure(failure);
                }
                BuildResponseItem item = (BuildResponseItem) event;
                anyOutput = true;
                String error = errorOf(item);
                if (error != null) {
                    ended = true;
                    flushPartial();
                    line(error);
                    LOG.atInfo().addKeyValue("tag", request.tag()).addKeyValue("reason", error)
                            .log("image build failed");
                    throw new BuildFailedException(error, keptLog());
                }
                take(item);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendUnavailableException("interrupted while building image '" + request.tag() + "'", e);
        } catch (DockerException e) {
            // Thrown by exec itself, before any streaming.
            throw requestFailure(e);
        } finally {
            closeQuietly(stream);
            closeQuietly(streaming);
            if (!ended || !liveContainers.isEmpty()) {
                removeLiveContainers();
            }
        }
        if (!tagged) {
            throw new BackendUnavailableException("Docker engine at " + host + " ended the build of '"
                    + request.tag() + "' without reporting it tagged");
        }
        String imageId = imageId();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        LOG.atInfo().addKeyValue("tag", request.tag()).addKeyValue("image", shortImageId(imageId))
                .addKeyValue("tookMs", took.toMillis()).log("image built");
        return new BuiltImage(request.tag(), imageId, took);
    }

    /**
     * A client of its own for the build's stream: the shared client's response timeout (a minute by default, enforced
     * on {@code tcp://} hosts) would break off a build whose step compiles silently for longer, while the build's own
     * timeout is the bound that matters. Its single connection is closed with it, which also aborts the stream.
     */
    private DockerClient streamingClient() {
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(host)
                .maxConnections(1)
                .connectionTimeout(config.connectTimeout())
                .responseTimeout(request.timeout().plus(config.teardownTimeout()))
                .build();
        DefaultDockerClientConfig clientConfig = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(config.dockerHost())
                .withDockerTlsVerify(false)
                .build();
        return DockerClientImpl.getInstance(clientConfig, http);
    }

    /**
     * The build context as a tar: regular files only, directories implied by their paths. A file whose content
     * starts with {@code #!} is a script and gets mode 0755, every other file 0644.
     */
    static byte[] contextArchive(BuildContext context) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter tar = new TarWriter(out);
        try {
            for (Map.Entry<String, byte[]> file : context.files().entrySet()) {
                byte[] content = file.getValue();
                tar.file(file.getKey(), content, isScript(content) ? TarWriter.MODE_EXECUTABLE : TarWriter.MODE_FILE);
            }
            tar.finish();
        } catch (IOException e) {
            throw new UncheckedIOException("a byte array cannot fail", e);
        }
        return out.toByteArray();
    }

    static boolean isScript(byte[] content) {
        return content.length >= 2 && content[0] == '#' && content[1] == '!';
    }

    /** @return the engine's failure message, or null when the item reports none */
    private static String errorOf(ResponseItem item) {
        if (item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null) {
            return item.getErrorDetail().getMessage();
        }
        return item.getError();
    }

    private void take(BuildResponseItem item) {
        if (item.getStream() != null) {
            append(item.getStream());
        } else if (item.getStatus() != null && !isProgress(item)) {
            // A pull of a base image: "latest: Pulling from library/busybox", "<layer>: Pull complete", ...
            flushPartial();
            line(item.getId() == null ? item.getStatus() : item.getId() + ": " + item.getStatus());
        }
    }

    /** Progress-bar updates ("Downloading [==>  ] 1.2MB/3MB"): a terminal redraws them, a log would drown in them. */
    private static boolean isProgress(ResponseItem item) {
        ResponseItem.ProgressDetail detail = item.getProgressDetail();
        return item.getProgress() != null && !item.getProgress().isEmpty()
                || detail != null && (detail.getCurrent() != null || detail.getTotal() != null);
    }

    /** Adds stream text, which comes in pieces that are not lines, and passes on every line completed. */
    private void append(String text) {
        partial.append(ANSI.matcher(text).replaceAll(""));
        int newline;
        while ((newline = partial.indexOf("\n")) >= 0) {
            String line = partial.substring(0, newline);
            partial.delete(0, newline + 1);
            line(line);
        }
    }

    private void flushPartial() {
        if (!partial.isEmpty()) {
            String rest = partial.toString();
            partial.setLength(0);
            line(rest);
        }
    }

    private void line(String raw) {
        String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        // A carriage return redraws the line on a terminal: keep what would be seen last.
        int cr = line.lastIndexOf('\r');
        if (cr >= 0) {
            line = line.substring(cr + 1);
        }
        track(line);
        keep(line);
        log.accept(line);
    }

    private void track(String line) {
        Matcher running = RUNNING_IN.matcher(line);
        if (running.matches()) {
            liveContainers.add(running.group(1));
            return;
        }
        Matcher removing = REMOVING.matcher(line);
        if (removing.matches()) {
            liveContainers.remove(removing.group(1));
            return;
        }
        if (line.equals("Successfully tagged " + request.tag())
                || !hasTag(request.tag()) && line.equals("Successfully tagged " + request.tag() + ":latest")) {
            tagged = true;
        }
    }

    private void keep(String line) {
        kept.addLast(line);
        keptChars += line.length() + 1;
        while (keptChars > MAX_LOG_CHARS && kept.size() > 1) {
            keptChars -= kept.removeFirst().length() + 1;
            droppedLines++;
        }
    }

    /** @return the log as kept: all of it, or its end with a note of how many lines were cut */
    private String keptLog() {
        StringBuilder b = new StringBuilder((int) Math.min(keptChars + 64, Integer.MAX_VALUE));
        if (droppedLines > 0) {
            b.append("[the first ").append(droppedLines).append(" lines of the build log were cut]\n");
        }
        for (String line : kept) {
            b.append(line).append('\n');
        }
        return b.toString();
    }

    private BuildFailedException timedOut(BuildStream stream) {
        flushPartial();
        // Abort first: the engine cancels the build on its client's disconnect and stops the step's container.
        closeQuietly(stream);
        int containers = liveContainers.size();
        removeLiveContainers();
        String message = "the build did not finish within " + DockerBackend.seconds(request.timeout());
        LOG.atInfo().addKeyValue("tag", request.tag()).addKeyValue("timeoutMs", request.timeout().toMillis())
                .addKeyValue("containers", containers).log("image build timed out; aborted it");
        line("granda: " + message + "; stopped it");
        return new BuildFailedException(message, keptLog());
    }

    /** A failure of the stream: the engine refused the build before its output, or the connection broke. */
    private RuntimeException streamFailure(Throwable failure) {
        if (failure instanceof DockerException e) {
            return requestFailure(e);
        }
        if (anyOutput) {
            return new BackendUnavailableException("Docker engine at " + host + " broke off the build of '"
                    + request.tag() + "': " + rootMessage(failure), failure);
        }
        return new BackendUnavailableException("Docker engine at " + host + " is unreachable (while trying to build"
                + " image '" + request.tag() + "'): " + rootMessage(failure), failure);
    }

    /** The engine answered the build request with an error status, before any output. */
    private RuntimeException requestFailure(DockerException e) {
        String message = DockerBackend.engineMessage(e);
        if (e instanceof BadRequestException) {
            // 400: the engine could not read the Dockerfile (a parse error, an empty file): the build's own fault.
            line(message);
            LOG.atInfo().addKeyValue("tag", request.tag()).addKeyValue("reason", message).log("image build refused");
            return new BuildFailedException(message, keptLog());
        }
        if (message.contains("invalid reference format")) {
            return new IllegalArgumentException("image tag '" + request.tag() + "' is not valid: " + message, e);
        }
        return new BackendUnavailableException("Docker engine at " + host + " failed to build image '"
                + request.tag() + "': HTTP " + e.getHttpStatus() + ": " + message, e);
    }

    private String imageId() {
        try {
            return docker.inspectImageCmd(request.tag()).exec().getId();
        } catch (NotFoundException e) {
            throw new BackendUnavailableException("Docker engine at " + host + " reported image '" + request.tag()
                    + "' built, but does not have it", e);
        } catch (DockerException e) {
            throw new BackendUnavailableException("Docker engine at " + host + " failed to inspect image '"
                    + request.tag() + "': HTTP " + e.getHttpStatus() + ": " + DockerBackend.engineMessage(e), e);
        } catch (RuntimeException e) {
            throw new BackendUnavailableException("Docker engine at " + host + " is unreachable (while trying to"
                    + " inspect image '" + request.tag() + "'): " + rootMessage(e), e);
        }
    }

    /**
     * Force-removes the containers this build saw created and not removed, with the teardown timeout for them all,
     * never cut short by an interrupt. A removal the engine already has in progress (it removes a cancelled step's
     * container itself) is waited for.
     */
    private void removeLiveContainers() {
        if (liveContainers.isEmpty()) {
            return;
        }
        Set<String> ids = Set.copyOf(liveContainers);
        liveContainers.clear();
        long deadline = System.nanoTime() + config.teardownTimeout().toNanos();
        AtomicReference<String> left = new AtomicReference<>();
        Thread remover = Thread.ofVirtual().name("granda-build-teardown").start(() -> {
            for (String id : ids) {
                if (!removeContainer(id, deadline)) {
                    left.set(id);
                }
            }
        });
        if (!Threads.joinUninterruptibly(remover, config.teardownTimeout().plusMillis(500)) || left.get() != null) {
            LOG.atWarn().addKeyValue("tag", request.tag()).addKeyValue("containers", ids)
                    .addKeyValue("timeout", config.teardownTimeout())
                    .log("a build container could not be removed; the engine's own cancellation is all that is left");
        }
    }

    /** @return true when the container is gone */
    private boolean removeContainer(String id, long deadline) {
        while (true) {
            try {
                docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
                return true;
            } catch (NotFoundException e) {
                return true;
            } catch (ConflictException e) {
                // "removal of container ... is already in progress": the engine's own cleanup; wait for its end.
                if (System.nanoTime() > deadline) {
                    return false;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            } catch (RuntimeException e) {
                LOG.atDebug().addKeyValue("container", id).addKeyValue("reason", e.getMessage())
                        .log("build container removal failed");
                return false;
            }
        }
    }

    /**
     * Removes an image by tag, best effort, with the teardown timeout: an absent image is not an error, one still
     * used by a container stays (and is logged).
     */
    static void removeImage(DockerClient docker, String tag, Duration timeout) {
        Thread remover = Thread.ofVirtual().name("granda-remove-image").start(() -> {
            try {
                docker.removeImageCmd(tag).withForce(false).withNoPrune(false).exec();
                LOG.atDebug().addKeyValue("tag", tag).log("image removed");
            } catch (NotFoundException e) {
                // Already gone: what we wanted.
            } catch (RuntimeException e) {
                String reason = e instanceof DockerException de ? DockerBackend.engineMessage(de) : rootMessage(e);
                LOG.atInfo().addKeyValue("tag", tag).addKeyValue("reason", reason).log("image not removed");
            }
        });
        if (!Threads.joinUninterruptibly(remover, timeout)) {
            LOG.atWarn().addKeyValue("tag", tag).addKeyValue("timeout", timeout).log("image removal timed out");
        }
    }

    /**
     * Receives the engine's stream on docker-java's thread and queues it for the building thread. Closing it aborts
     * the request, also when that happens before the stream started.
     */
    private static final class BuildStream implements ResultCallback<BuildResponseItem> {
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private final ReentrantLock lock = new ReentrantLock();
        private Closeable stream;
        private boolean closed;

        @Override
        public void onStart(Closeable started) {
            lock.lock();
            try {
                if (!closed) {
                    stream = started;
                    return;
                }
            } finally {
                lock.unlock();
            }
            closeQuietly(started);
        }

        @Override
        public void onNext(BuildResponseItem item) {
            events.add(item);
        }

        @Override
        public void onError(Throwable throwable) {
            events.add(throwable);
        }

        @Override
        public void onComplete() {
            events.add(END);
        }

        @Override
        public void close() {
            Closeable toClose;
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                closed = true;
                toClose = stream;
            } finally {
                lock.unlock();
            }
            if (toClose != null) {
                closeQuietly(toClose);
            }
        }
    }

    /** @return whether the reference names a tag; without one the engine tags {@code :latest} */
    private static boolean hasTag(String reference) {
        return reference.substring(reference.lastIndexOf('/') + 1).contains(":");
    }

    private static String shortImageId(String id) {
        String hex = id.startsWith("sha256:") ? id.substring(7) : id;
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }

    private static void closeQuietly(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException | RuntimeException ignored) {
            // Aborting a stream cannot fail in a way that matters.
        }
    }
}
