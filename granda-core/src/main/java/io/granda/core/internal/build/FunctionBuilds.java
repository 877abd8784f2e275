package io.granda.core.internal.build;

import io.granda.core.BuildInfo;
import io.granda.core.BuildOptions;
import io.granda.core.Ids;
import io.granda.core.ImageUnavailableException;
import io.granda.core.RuntimeUnavailableException;
import io.granda.core.ShuttingDownException;
import io.granda.core.build.BaseImage;
import io.granda.core.build.BuildContext;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.BuildRequest;
import io.granda.core.build.BuiltImage;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.ImageBuilder;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.StoredImage;
import io.granda.core.spi.Backend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Turns a function's source into an image: picks each base image among its candidates, bounds how many builds run
 * at once, keeps every recent build's log (live while it runs) and names the image by function and revision. Not
 * API. Thread-safe.
 */
public final class FunctionBuilds {

    private static final Logger LOG = LoggerFactory.getLogger(FunctionBuilds.class);
    /** How long a base image candidate found unavailable is not tried again: a failed pull costs time every build. */
    private static final Duration UNAVAILABLE_FOR = Duration.ofMinutes(5);
    /** A build log kept in memory is cut to its end beyond this many characters. */
    private static final int MAX_LOG_CHARS = 1024 * 1024;

    private final ImageBuilder builder;
    private final Backend backend;
    private final BuildOptions options;
    private final Clock clock;
    private final Semaphore slots;
    private final Consumer<BuildInfo> onFinished;
    private final Map<String, Build> recent = new LinkedHashMap<>();
    private final ReentrantLock recentLock = new ReentrantLock();
    private final Map<String, Instant> unavailableUntil = new ConcurrentHashMap<>();
    /**
     * Build id to tag, from a build's start until its image became a revision or was given up: such an image may
     * not be referenced by any revision yet, and must never be taken for an unused one.
     */
    private final Map<String, String> pendingTags = new ConcurrentHashMap<>();

    /**
     * @param builder builds the images
     * @param backend makes base images present (pulls them)
     * @param options limits and history
     * @param clock   time of builds
     */
    public FunctionBuilds(ImageBuilder builder, Backend backend, BuildOptions options, Clock clock) {
        this(builder, backend, options, clock, finished -> { });
    }

    /**
     * @param builder    builds images
     * @param backend    checks which base images are present (and pulls them)
     * @param options    limits of builds
     * @param clock      time of builds
     * @param onFinished told of every build once it has ended, in success or failure
     */
    public FunctionBuilds(ImageBuilder builder, Backend backend, BuildOptions options, Clock clock,
                          Consumer<BuildInfo> onFinished) {
        this.onFinished = onFinished;
        this.builder = builder;
        this.backend = backend;
        this.options = options;
        this.clock = clock;
        this.slots = new Semaphore(options.maxConcurrentBuilds(), true);
    }

    /** A build that succeeded: its image and its log. */
    public record Built(String buildId, String tag, String log) {
    }

    /** One build's state; its fields are guarded by {@link #lock}. */
    private static final class Build {
        final String id;
        final String tenant;
        final String function;
        final String runtime;
        final Instant started;
        final ReentrantLock lock = new ReentrantLock();
        final StringBuilder log = new StringBuilder();
        BuildInfo.Status status = BuildInfo.Status.QUEUED;
        long revision;
        Instant ended;
        String message = "";

        Build(String id, String tenant, String function, String runtime, Instant started) {
            this.id = id;
            this.tenant = tenant;
            this.function = function;
            this.runtime = runtime;
            this.started = started;
        }

        void append(String line) {
            lock.lock();
            try {
                log.append(line).append('\n');
                if (log.length() > MAX_LOG_CHARS) {
                    log.delete(0, log.length() - MAX_LOG_CHARS);
                }
            } finally {
                lock.unlock();
            }
        }

        BuildInfo info() {
            lock.lock();
            try {
                return new BuildInfo(id, function, runtime, status, revision, started, ended, message, log.toString(),
                        tenant);
            } finally {
                lock.unlock();
            }
        }

        void end(BuildInfo.Status outcome, String why, Instant at) {
            lock.lock();
            try {
                status = outcome;
                message = why;
                ended = at;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Builds the image of one revision of a function.
     *
     * @param tenant       the function's tenant
     * @param functionName the function
     * @param revision     the revision the image is for
     * @param runtime      the source's runtime
     * @param source       the source, checked
     * @param listener     receives every log line as it comes (the build's own output and Granda's notes)
     * @return the image's tag and the build's log
     * @throws BuildFailedException        when the build failed; its message is the runtime's summary of the log
     * @throws RuntimeUnavailableException when no base image of the runtime can be had
     */
    public Built build(String tenant, String functionName, long revision, LanguageRuntime runtime,
                       FunctionSource source, Consumer<String> listener) {
        String buildId = Ids.newTimeOrderedId(clock.instant());
        Build build = new Build(buildId, tenant, functionName, runtime.name(), clock.instant());
        remember(build);
        Consumer<String> log = line -> {
            build.append(line);
            try {
                listener.accept(line);
            } catch (RuntimeException e) {
                // A caller that went away must not break the build.
                LOG.atDebug().addKeyValue("build", buildId).addKeyValue("reason", e.getMessage())
                        .log("build listener failed");
            }
        };
        String tag = "granda-fn/" + functionName + ":r" + revision + "-" + buildId.substring(buildId.length() - 8);
        pendingTags.put(buildId, tag);
        try {
            log.accept("granda: build " + buildId + " of " + functionName + " revision " + revision + " ("
                    + runtime.name() + ", " + source.files().size() + " files, " + source.totalBytes() + " bytes)");
            acquireSlot(log);
            try {
                setStatus(build, BuildInfo.Status.RUNNING);
                Map<String, String> bases = chooseBaseImages(runtime, log);
                BuildContext context = runtime.buildContext(source, bases);
                Map<String, String> labels = Map.of("io.granda.function", functionName,
                        "io.granda.revision", Long.toString(revision), BuildRequest.BUILD_ID_LABEL, buildId,
                        "io.granda.runtime", runtime.name());
                long t0 = System.nanoTime();
                BuiltImage image = builder.build(new BuildRequest(tag, context, labels, options.timeout(),
                        options.network()), log);
                log.accept("granda: built " + image.tag() + " in " + Duration.ofNanos(System.nanoTime() - t0).toMillis()
                        + " ms");
            } finally {
                slots.release();
            }
        } catch (BuildFailedException e) {
            String summary = runtime.failureSummary(e.log().isEmpty() ? build.info().log() : e.log());
            String message = summary.isBlank() ? e.getMessage() : summary;
            build.end(BuildInfo.Status.FAILED, message, clock.instant());
            pendingTags.remove(buildId);
            finished(build);
            throw new BuildFailedException(message, build.info().log());
        } catch (RuntimeException e) {
            build.end(BuildInfo.Status.FAILED, String.valueOf(e.getMessage()), clock.instant());
            pendingTags.remove(buildId);
            finished(build);
            throw e;
        }
        return new Built(buildId, tag, build.info().log());
    }

    /** Records that a build's image became a revision. */
    public void succeeded(String buildId, long revision) {
        pendingTags.remove(buildId);
        find(buildId).ifPresent(b -> {
            b.lock.lock();
            try {
                b.revision = revision;
                b.status = BuildInfo.Status.SUCCEEDED;
                b.ended = clock.instant();
            } finally {
                b.lock.unlock();
            }
            finished(b);
        });
    }

    /** Records that a built image could not be registered (e.g. the name was taken meanwhile). */
    public void abandoned(String buildId, String why) {
        pendingTags.remove(buildId);
        find(buildId).ifPresent(b -> {
            b.end(BuildInfo.Status.FAILED, why, clock.instant());
            finished(b);
        });
    }

    private void finished(Build build) {
        try {
            onFinished.accept(build.info());
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).addKeyValue("build", build.id).log("a listener of finished builds failed");
        }
    }

    /** @return a recent build, live while it runs */
    public Optional<BuildInfo> info(String buildId) {
        return find(buildId).map(Build::info);
    }

    /**
     * @param tenant       a tenant, or {@code null} for builds of every tenant
     * @param functionName a function name
     * @return the most recent build of that name (by that tenant), if any is still remembered
     */
    public Optional<BuildInfo> latest(String tenant, String functionName) {
        recentLock.lock();
        try {
            Build last = null;
            for (Build b : recent.values()) {
                if (b.function.equals(functionName) && (tenant == null || b.tenant.equals(tenant))) {
                    last = b;
                }
            }
            return Optional.ofNullable(last).map(Build::info);
        } finally {
            recentLock.unlock();
        }
    }

    /** Removes an image best effort: one built for a revision that never came to be, or one no longer used. */
    public void removeImage(String tag) {
        builder.removeImage(tag);
    }

    /**
     * @return the tags of images being built, or built and not yet registered as a revision nor given up: read them
     *         <em>before</em> the registry when looking for unused images, since a build moves from here to the
     *         registry and never the other way
     */
    public Set<String> pendingTags() {
        return Set.copyOf(pendingTags.values());
    }

    /** @return the images the builder made that are still kept; none when it cannot tell */
    public List<StoredImage> builtImages() {
        try {
            return builder.builtImages();
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).log("could not list built images");
            return List.of();
        }
    }

    private Optional<Build> find(String buildId) {
        recentLock.lock();
        try {
            return Optional.ofNullable(recent.get(buildId));
        } finally {
            recentLock.unlock();
        }
    }

    private void remember(Build build) {
        recentLock.lock();
        try {
            recent.put(build.id, build);
            while (recent.size() > options.recentBuilds()) {
                recent.remove(recent.keySet().iterator().next());
            }
        } finally {
            recentLock.unlock();
        }
    }

    private static void setStatus(Build build, BuildInfo.Status status) {
        build.lock.lock();
        try {
            build.status = status;
        } finally {
            build.lock.unlock();
        }
    }

    private void acquireSlot(Consumer<String> log) {
        if (slots.tryAcquire()) {
            return;
        }
        log.accept("granda: waiting for a build slot (" + options.maxConcurrentBuilds() + " builds at once)");
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShuttingDownException("interrupted while waiting for a build slot", e);
        }
    }

    /** For each role, the first candidate present or pullable; failures are remembered for a while. */
    private Map<String, String> chooseBaseImages(LanguageRuntime runtime, Consumer<String> log) {
        Map<String, String> chosen = new LinkedHashMap<>();
        for (BaseImage base : runtime.baseImages()) {
            List<String> tried = new ArrayList<>();
            for (String candidate : base.candidates()) {
                Instant until = unavailableUntil.get(candidate);
                if (until != null && clock.instant().isBefore(until)) {
                    tried.add(candidate + " (unavailable a moment ago)");
                    continue;
                }
                try {
                    backend.prepare(candidate);
                    unavailableUntil.remove(candidate);
                    chosen.put(base.role(), candidate);
                    log.accept("granda: " + base.role() + " image " + candidate);
                    break;
                } catch (ImageUnavailableException e) {
                    unavailableUntil.put(candidate, clock.instant().plus(UNAVAILABLE_FOR));
                    tried.add(candidate + " (" + e.getMessage() + ")");
                    log.accept("granda: " + base.role() + " image " + candidate + " is unavailable; trying the next");
                }
            }
            if (!chosen.containsKey(base.role())) {
                throw new RuntimeUnavailableException("runtime " + runtime.name() + " cannot build: no " + base.role()
                        + " image is available; tried " + String.join("; ", tried)
                        + ". Pull one, or build the local equivalents with scripts/build-base-images.sh");
            }
        }
        return chosen;
    }
}
