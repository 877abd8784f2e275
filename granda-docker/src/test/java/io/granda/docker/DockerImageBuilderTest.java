package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Image;
import io.granda.core.BackendUnavailableException;
import io.granda.core.build.BuildContext;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.BuildRequest;
import io.granda.core.build.BuiltImage;
import io.granda.core.build.StoredImage;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Image builds against the real engine ({@code DOCKER_HOST}, else the default socket; Docker 20.10's classic builder).
 * No registry is reachable: every build starts from {@code granda-test-busybox:latest} (made by
 * {@code scripts/build-images.sh}). Every image made here carries this run's owner id and is removed at the end.
 * RUN steps print this run's id, so the engine's cache never replays them from an earlier run. The base image has an
 * ENTRYPOINT of its own (a shell running $SCRIPT), so images here set theirs.
 */
class DockerImageBuilderTest {

    private static final String OWNER = "test-build-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String BASE = "granda-test-busybox:latest";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern RUNNING_IN = Pattern.compile(" ---> Running in ([0-9a-f]{12})");

    private static DockerClient docker;
    private static DockerBackend backend;
    private static final Set<String> tags = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void connect() {
        docker = TestDocker.connect(BASE);
        backend = new DockerBackend(DockerBackendConfig.defaults(OWNER));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        for (String tag : tags) {
            backend.removeImage(tag);
        }
        // Anything labelled with this run's owner that a failed assertion left behind.
        for (Image image : docker.listImagesCmd().withLabelFilter(Map.of(DockerBackend.LABEL_OWNER, OWNER)).exec()) {
            try {
                docker.removeImageCmd(image.getId()).withForce(true).exec();
            } catch (NotFoundException ignored) {
                // Gone meanwhile.
            }
        }
        assertTrue(docker.listImagesCmd().withLabelFilter(Map.of(DockerBackend.LABEL_OWNER, OWNER)).exec().isEmpty());
        backend.close();
        docker.close();
    }

    @Test
    void buildsAnImageThatRunsWhatItsContextHoldsAndCarriesItsLabels() {
        String tag = tag("hello");
        Map<String, byte[]> files = context("""
                FROM %s
                COPY message.txt /message.txt
                ENTRYPOINT ["cat", "/message.txt"]
                """.formatted(BASE));
        files.put("message.txt", bytes("hello from the context " + OWNER + "\n"));
        List<String> log = Collections.synchronizedList(new ArrayList<>());

        BuiltImage image = backend.build(new BuildRequest(tag, new BuildContext(files),
                Map.of(DockerBackend.LABEL_FUNCTION, "hello", DockerBackend.LABEL_REVISION, "3"), TIMEOUT, false),
                log::add);

        assertEquals(tag, image.tag());
        assertTrue(image.took().toMillis() > 0);
        InspectImageResponse inspected = docker.inspectImageCmd(tag).exec();
        assertEquals(inspected.getId(), image.imageId());
        Map<String, String> labels = inspected.getConfig().getLabels();
        assertEquals(OWNER, labels.get(DockerBackend.LABEL_OWNER));
        assertEquals("hello", labels.get(DockerBackend.LABEL_FUNCTION));
        assertEquals("3", labels.get(DockerBackend.LABEL_REVISION));
        assertTrue(log.contains("Successfully tagged " + tag), String.join("\n", log));
        assertEquals("hello from the context " + OWNER + "\n", run(tag));
    }

    @Test
    void listsTheImagesItsBuildsMadeAndNoOthers() {
        String built = tag("listed");
        String unlabelled = tag("not-a-build");
        Map<String, byte[]> files = context("FROM %s\nENTRYPOINT [\"true\"]\n".formatted(BASE));
        backend.build(new BuildRequest(built, new BuildContext(files),
                Map.of(BuildRequest.BUILD_ID_LABEL, "01build", DockerBackend.LABEL_FUNCTION, "listed"), TIMEOUT, false),
                line -> { });
        // This owner's image, but not from a function build (no build label): a builder never lists it.
        backend.build(new BuildRequest(unlabelled, new BuildContext(files), Map.of(), TIMEOUT, false), line -> { });
        // Another owner's build: never listed either.
        DockerBackend other = new DockerBackend(DockerBackendConfig.defaults(OWNER + "-other"));
        String othersTag = tag("others");
        try {
            other.build(new BuildRequest(othersTag, new BuildContext(files), Map.of(BuildRequest.BUILD_ID_LABEL, "02b"),
                    TIMEOUT, false), line -> { });
            List<StoredImage> listed = backend.builtImages();
            assertEquals(List.of(built), listed.stream().map(StoredImage::tag).toList());
            assertTrue(Duration.between(listed.getFirst().created(), java.time.Instant.now()).abs().toMinutes() < 5,
                    "created just now: " + listed.getFirst().created());

            backend.removeImage(built);
            assertEquals(List.of(), backend.builtImages());
        } finally {
            other.removeImage(othersTag);
            other.close();
        }
    }

    @Test
    void streamsEachLineInOrderWhileTheBuildRuns() {
        String tag = tag("stream");
        Map<String, byte[]> files = context("""
                FROM %s
                RUN echo first-%s && sleep 2 && echo second-%s
                """.formatted(BASE, OWNER, OWNER));
        Thread caller = Thread.currentThread();
        List<String> lines = new ArrayList<>();
        Map<String, Long> seenAt = new ConcurrentHashMap<>();
        List<Thread> threads = Collections.synchronizedList(new ArrayList<>());

        backend.build(new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), line -> {
            lines.add(line);
            seenAt.putIfAbsent(line, System.nanoTime());
            threads.add(Thread.currentThread());
        });
        long returned = System.nanoTime();

        int first = lines.indexOf("first-" + OWNER);
        int second = lines.indexOf("second-" + OWNER);
        assertTrue(first >= 0 && second > first, String.join("\n", lines));
        assertTrue(lines.indexOf("Step 1/3 : FROM " + BASE) < first, String.join("\n", lines));
        assertTrue(lines.indexOf("Successfully tagged " + tag) > second, String.join("\n", lines));
        // "first" came while the build still slept, not with everything at the end.
        long firstBeforeEndMs = (returned - seenAt.get("first-" + OWNER)) / 1_000_000;
        assertTrue(firstBeforeEndMs >= 1500, "first line only " + firstBeforeEndMs + " ms before the end");
        assertTrue(threads.stream().allMatch(t -> t == caller), "lines must arrive on the building thread");
        assertTrue(lines.stream().noneMatch(l -> l.contains("\n")));
    }

    @Test
    void aFailingRunStepFailsTheBuildWithTheStepsErrorAndOutput() {
        String tag = tag("failing");
        Map<String, byte[]> files = context("""
                FROM %s
                RUN echo out-%s; echo err-%s >&2; exit 3
                """.formatted(BASE, OWNER, OWNER));
        List<String> streamed = new ArrayList<>();

        BuildFailedException e = assertThrows(BuildFailedException.class, () -> backend.build(
                new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), streamed::add));

        assertEquals("build_failed", e.code());
        assertEquals("The command '/bin/sh -c echo out-" + OWNER + "; echo err-" + OWNER + " >&2; exit 3' returned"
                + " a non-zero code: 3", e.getMessage());
        assertTrue(e.log().contains("out-" + OWNER + "\n"), e.log());
        // stderr without the engine's colour codes.
        assertTrue(e.log().contains("\nerr-" + OWNER + "\n"), e.log());
        assertFalse(e.log().contains("\u001b"), e.log());
        assertTrue(e.log().endsWith(e.getMessage() + "\n"), e.log());
        assertEquals(e.log(), String.join("\n", streamed) + "\n");
        assertNoImage(tag);
    }

    @Test
    void aMissingFileInCopyFailsTheBuild() {
        String tag = tag("nocopy");
        Map<String, byte[]> files = context("""
                FROM %s
                COPY missing.txt /missing.txt
                """.formatted(BASE));

        BuildFailedException e = assertThrows(BuildFailedException.class, () -> backend.build(
                new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), line -> { }));

        assertTrue(e.getMessage().startsWith("COPY failed:") && e.getMessage().contains("missing.txt"),
                e.getMessage());
        assertTrue(e.log().contains("Step 2/3 : COPY missing.txt /missing.txt"), e.log());
        assertNoImage(tag);
    }

    @Test
    void aDockerfileSyntaxErrorFailsTheBuild() {
        String tag = tag("syntax");
        Map<String, byte[]> files = context("""
                FROM %s
                RUNN echo typo
                """.formatted(BASE));
        List<String> streamed = new ArrayList<>();

        BuildFailedException e = assertThrows(BuildFailedException.class, () -> backend.build(
                new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), streamed::add));

        assertEquals("dockerfile parse error line 2: unknown instruction: RUNN", e.getMessage());
        assertEquals(List.of(e.getMessage()), streamed);
        assertNoImage(tag);
    }

    @Test
    void aScriptKeepsItsExecutableModeAndOtherFilesDoNot() {
        String tag = tag("script");
        Map<String, byte[]> files = context("""
                FROM %s
                COPY run.sh data.txt /app/
                RUN test -x /app/run.sh && test ! -x /app/data.txt
                ENTRYPOINT ["/app/run.sh"]
                """.formatted(BASE));
        files.put("run.sh", bytes("#!/bin/sh\necho \"script ran: $(cat /app/data.txt)\"\n"));
        files.put("data.txt", bytes("#not a script, but starts like a comment\n"));
        // A file whose first bytes are not "#!" is not made executable even when it is named like a script.
        files.put("lib.sh", bytes("echo sourced\n"));

        backend.build(new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), line -> { });

        assertEquals("script ran: #not a script, but starts like a comment\n", run(tag));
    }

    @Test
    void buildsAContextWithNestedDirectoriesAndLongPaths() {
        String tag = tag("nested");
        String longPath = "deep/" + "d".repeat(90) + "/" + "f".repeat(110) + ".txt";
        Map<String, byte[]> files = context("""
                FROM %s
                COPY . /ctx/
                ENTRYPOINT ["sh", "-c", "cd /ctx && find . -type f | sort && cat a/b/c/leaf.txt a/top.txt %s"]
                """.formatted(BASE, longPath));
        files.put("a/top.txt", bytes("top\n"));
        files.put("a/b/c/leaf.txt", bytes("leaf\n"));
        files.put(longPath, bytes("long\n"));

        backend.build(new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), line -> { });

        assertEquals(String.join("\n", "./Dockerfile", "./a/b/c/leaf.txt", "./a/top.txt", "./" + longPath,
                "leaf", "top", "long") + "\n", run(tag));
    }

    @Test
    void aBuildThatRunsTooLongIsStoppedAndLeavesNothingRunning() {
        String tag = tag("slow");
        Map<String, byte[]> files = context("""
                FROM %s
                RUN echo started-%s && sleep 60
                """.formatted(BASE, OWNER));
        List<String> streamed = new ArrayList<>();
        long t0 = System.nanoTime();

        BuildFailedException e = assertThrows(BuildFailedException.class, () -> backend.build(
                new BuildRequest(tag, new BuildContext(files), Map.of(), Duration.ofSeconds(3), false),
                streamed::add));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;

        assertEquals("the build did not finish within 3 s", e.getMessage());
        assertTrue(e.log().contains("started-" + OWNER + "\n"), e.log());
        assertTrue(tookMs >= 3000 && tookMs < 3000 + 10_000, "took " + tookMs + " ms");
        Matcher m = RUNNING_IN.matcher(e.log());
        assertTrue(m.find(), e.log());
        String container = m.group(1);
        assertThrows(NotFoundException.class, () -> docker.inspectContainerCmd(container).exec(),
                "the step's container " + container + " is still there");
        assertNoImage(tag);
    }

    @Test
    void runStepsHaveNoNetworkByDefault() {
        String tag = tag("nonet");
        Map<String, byte[]> files = context("""
                FROM %s
                RUN echo interfaces-%s: $(ls /sys/class/net) && wget -T 2 -q -O /dev/null http://deb.debian.org
                """.formatted(BASE, OWNER));

        BuildFailedException e = assertThrows(BuildFailedException.class, () -> backend.build(
                new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), line -> { }));

        assertTrue(e.getMessage().contains("wget") && e.getMessage().contains("returned a non-zero code"),
                e.getMessage());
        assertTrue(e.log().contains("interfaces-" + OWNER + ": lo\n"), e.log());
        assertNoImage(tag);
    }

    @Test
    void aBuildAllowedTheNetworkRunsInTheHostsNetwork() {
        // Only which interfaces the step sees: nothing here sends traffic anywhere.
        String tag = tag("hostnet");
        Map<String, byte[]> files = context("""
                FROM %s
                RUN echo interfaces-%s: $(ls /sys/class/net)
                """.formatted(BASE, OWNER));
        List<String> lines = new ArrayList<>();

        backend.build(new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, true), lines::add);

        String interfaces = lines.stream().filter(l -> l.startsWith("interfaces-" + OWNER + ": ")).findFirst()
                .orElseThrow(() -> new AssertionError(String.join("\n", lines)));
        assertFalse(interfaces.endsWith(": lo"), interfaces);
    }

    @Test
    void removeImageRemovesItAndIsIdempotent() {
        String tag = tag("remove");
        Map<String, byte[]> files = context("""
                FROM %s
                LABEL note=remove-%s
                """.formatted(BASE, OWNER));
        backend.build(new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), line -> { });
        docker.inspectImageCmd(tag).exec();

        backend.removeImage(tag);
        assertNoImage(tag);
        backend.removeImage(tag);
        backend.removeImage("granda-test-never-built:" + OWNER);
        backend.removeImage("Not A Valid Reference");
    }

    @Test
    void anUnreachableEngineIsBackendUnavailable() {
        DockerBackendConfig config = DockerBackendConfig.defaults(OWNER)
                .withDockerHost("unix:///nonexistent/granda-docker.sock");
        try (DockerBackend unreachable = new DockerBackend(config)) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> unreachable.build(
                    new BuildRequest(tag("unreachable"), new BuildContext(context("FROM " + BASE + "\n")), Map.of(),
                            TIMEOUT, false), line -> { }));
            assertTrue(e.getMessage().contains("unreachable"), e.getMessage());
            // Best effort: never throws.
            unreachable.removeImage(tag("unreachable"));
        }
    }

    @Test
    void aClosedBackendBuildsNothing() {
        DockerBackend closed = new DockerBackend(DockerBackendConfig.defaults(OWNER + "-closed"));
        closed.close();
        assertThrows(BackendUnavailableException.class, () -> closed.build(new BuildRequest(tag("closed"),
                new BuildContext(context("FROM " + BASE + "\n")), Map.of(), TIMEOUT, false), line -> { }));
        closed.removeImage(tag("closed"));
    }

    @Test
    void fourBuildsInParallelAllSucceed() throws Exception {
        List<String> parallelTags = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<BuiltImage>> builds = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String tag = tag("parallel" + i);
                parallelTags.add(tag);
                Map<String, byte[]> files = context("""
                        FROM %s
                        COPY n.txt /n.txt
                        RUN sleep 1 && echo built-%s-%d
                        ENTRYPOINT ["cat", "/n.txt"]
                        """.formatted(BASE, OWNER, i));
                files.put("n.txt", bytes("build " + i + "\n"));
                builds.add(pool.submit(() -> backend.build(
                        new BuildRequest(tag, new BuildContext(files), Map.of(), TIMEOUT, false), line -> { })));
            }
            for (int i = 0; i < 4; i++) {
                assertEquals(parallelTags.get(i), builds.get(i).get().tag());
            }
        }
        for (int i = 0; i < 4; i++) {
            assertEquals("build " + i + "\n", run(parallelTags.get(i)));
        }
    }

    // ---- helpers ----

    private static String tag(String name) {
        String tag = "granda-test-build/" + name + ":" + OWNER;
        tags.add(tag);
        return tag;
    }

    private static Map<String, byte[]> context(String dockerfile) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(BuildContext.DOCKERFILE, bytes(dockerfile));
        return files;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** @return the stdout of the image's command, run by the backend under test as a function would be */
    private static String run(String tag) {
        RunOnceResult result = backend.runOnce(new RunOnceRequest("inv-" + UUID.randomUUID(), "fn-build-test",
                "build-test", 1, tag, Map.of(), 64, Duration.ofSeconds(30), new byte[0], 64 * 1024, 64 * 1024));
        if (result.termination() != RunOnceResult.Termination.EXITED || result.exitCode() != 0) {
            fail("running " + tag + " ended " + result.termination() + " " + result.exitCode() + ": " + result.stderrTail());
        }
        return new String(result.stdout(), StandardCharsets.UTF_8);
    }

    private static void assertNoImage(String tag) {
        assertThrows(NotFoundException.class, () -> docker.inspectImageCmd(tag).exec(), tag + " exists");
    }
}
