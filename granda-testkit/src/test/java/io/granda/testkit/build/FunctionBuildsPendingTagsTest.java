package io.granda.testkit.build;

import io.granda.core.BuildOptions;
import io.granda.core.build.BaseImage;
import io.granda.core.build.BuildContext;
import io.granda.core.build.BuildFailedException;
import io.granda.core.build.BuildRequest;
import io.granda.core.build.BuiltImage;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.ImageBuilder;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.SourceFile;
import io.granda.core.internal.build.FunctionBuilds;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tags of images being built, or built and not yet a revision, are what keeps a fresh image from being taken for
 * an unused one by Granda's sweep of built images: they must be there from the build's start until the image became
 * a revision or was given up, and no longer.
 */
@Timeout(30)
class FunctionBuildsPendingTagsTest {

    private static final FunctionSource SOURCE = new FunctionSource("fake",
            List.of(new SourceFile("main.sh", "echo hi".getBytes(StandardCharsets.UTF_8))));

    /** A builder whose builds wait for {@link #release} and then succeed or fail as told. */
    private static final class GatedBuilder implements ImageBuilder {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean fail;

        @Override
        public BuiltImage build(BuildRequest request, Consumer<String> log) {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (fail) {
                throw new BuildFailedException("step 2 exited with 1", "step 2 exited with 1");
            }
            return new BuiltImage(request.tag(), "sha256:1", Duration.ofMillis(5));
        }
    }

    private static final LanguageRuntime FAKE = new LanguageRuntime() {
        @Override
        public String name() {
            return "fake";
        }

        @Override
        public Set<String> aliases() {
            return Set.of();
        }

        @Override
        public String description() {
            return "a runtime for tests";
        }

        @Override
        public String handlerFile() {
            return "main.sh";
        }

        @Override
        public Optional<String> manifestFile() {
            return Optional.empty();
        }

        @Override
        public List<BaseImage> baseImages() {
            return List.of(new BaseImage("run", List.of("base:1")));
        }

        @Override
        public void check(FunctionSource source) {
        }

        @Override
        public BuildContext buildContext(FunctionSource source, Map<String, String> baseImages) {
            return new BuildContext(Map.of(BuildContext.DOCKERFILE,
                    ("FROM " + baseImages.get("run") + "\n").getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public String failureSummary(String log) {
            return log;
        }
    };

    private final GatedBuilder builder = new GatedBuilder();
    private final FunctionBuilds builds = new FunctionBuilds(builder, new FakeBackend(), BuildOptions.DEFAULTS,
            new FakeClock());

    @Test
    void aBuildsTagIsPendingFromItsStartUntilItBecomesARevision() throws Exception {
        CompletableFuture<FunctionBuilds.Built> build = CompletableFuture.supplyAsync(
                () -> builds.build("default", "tidy", 1, FAKE, SOURCE, line -> { }));
        builder.started.await();
        Set<String> whileBuilding = builds.pendingTags();
        assertEquals(1, whileBuilding.size(), "the tag is pending while the image is built");
        builder.release.countDown();
        FunctionBuilds.Built built = build.get();
        assertEquals(Set.of(built.tag()), whileBuilding);
        assertEquals(Set.of(built.tag()), builds.pendingTags(), "built but not yet registered: still pending");

        builds.succeeded(built.buildId(), 1);
        assertEquals(Set.of(), builds.pendingTags(), "a registered revision keeps its image through the registry");
    }

    @Test
    void aBuiltImageThatNeverBecameARevisionIsNoLongerPendingOnceGivenUp() throws Exception {
        builder.release.countDown();
        FunctionBuilds.Built built = builds.build("default", "tidy", 1, FAKE, SOURCE, line -> { });
        assertTrue(builds.pendingTags().contains(built.tag()));
        builds.abandoned(built.buildId(), "the name was taken meanwhile");
        assertEquals(Set.of(), builds.pendingTags());
    }

    @Test
    void aFailedBuildLeavesNothingPending() {
        builder.fail = true;
        builder.release.countDown();
        assertThrows(BuildFailedException.class,
                () -> builds.build("default", "tidy", 1, FAKE, SOURCE, line -> { }));
        assertEquals(Set.of(), builds.pendingTags());
    }
}
