package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.HostConfig;
import io.granda.core.BackendUnavailableException;
import io.granda.core.FunctionNotReadyException;
import io.granda.core.Ids;
import io.granda.core.spi.Backend;
import io.granda.core.spi.CpuMeter;
import io.granda.core.spi.BackendCapability;
import io.granda.core.spi.HotInstance;
import io.granda.testkit.HotBackendContract;
import io.granda.testkit.HotSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot instance contract against a real Docker engine, plus what is Docker's own: labels, the bind mount, no
 * network and no swap on the container, the run directory's permissions and ownership, reaping by owner, pause and
 * resume, engine refusals. Needs {@code granda-hot-echo:latest} ({@code scripts/build-images.sh hot-echo}).
 */
class DockerHotInstanceTest extends HotBackendContract {

    /** Unique per run, so that other test runs sharing the engine are never reaped by this one. */
    private static final String OWNER = "test-hot-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String HOT_IMAGE = "granda-hot-echo:latest";

    private static DockerClient docker;

    @BeforeAll
    static void connect() {
        docker = TestDocker.connect(HOT_IMAGE);
    }

    @AfterAll
    static void disconnect() throws IOException {
        docker.close();
    }

    @Override
    protected Backend createBackend() {
        return new DockerBackend(DockerBackendConfig.defaults(OWNER));
    }

    @Override
    protected String hotImage() {
        return HOT_IMAGE;
    }

    private Path runDirectory() {
        return DockerBackendConfig.defaults(OWNER).runDirectory();
    }

    @Test
    void containerCarriesLabelsMountLimitsAndNoNetwork() {
        Spec spec = instance().memoryMb(48).env("GREETING", "hi");
        HotInstance hot = spec.start();

        InspectContainerResponse c = docker.inspectContainerCmd(hot.backendRef()).exec();
        Map<String, String> labels = c.getConfig().getLabels();
        assertEquals(OWNER, labels.get(DockerBackend.LABEL_OWNER));
        assertEquals(FUNCTION_NAME, labels.get(DockerBackend.LABEL_FUNCTION));
        assertEquals("fn-id-hot-contract", labels.get(DockerBackend.LABEL_FUNCTION_ID));
        assertEquals("7", labels.get(DockerBackend.LABEL_REVISION));
        assertEquals(spec.instanceId, labels.get(DockerBackend.LABEL_INSTANCE));
        assertEquals("hot", labels.get(DockerBackend.LABEL_MODE));
        assertFalse(labels.containsKey(DockerBackend.LABEL_INVOCATION));

        HostConfig host = c.getHostConfig();
        assertEquals("none", host.getNetworkMode());
        assertEquals(48L * 1024 * 1024, host.getMemory());
        assertEquals(48L * 1024 * 1024, host.getMemorySwap(), "no swap");
        assertTrue(c.getConfig().getNetworkDisabled(), "no network sandbox at all");
        assertEquals(List.of(runDirectory().resolve(spec.instanceId) + ":/granda"),
                Stream.of(host.getBinds()).map(b -> b.getPath() + ":" + b.getVolume().getPath()).toList());
        // The loopback names, which the engine writes no hosts file for without a network: read-only.
        assertEquals(List.of(runDirectory().resolve(RunDirectory.HOSTS) + ":/etc/hosts:true"),
                host.getMounts().stream().map(m -> m.getSource() + ":" + m.getTarget() + ":" + m.getReadOnly())
                        .toList());
        assertEquals(hot.socket(), runDirectory().resolve(spec.instanceId).resolve("fn.sock"));

        List<String> env = List.of(c.getConfig().getEnv());
        assertTrue(env.contains("GRANDA_SOCKET=/granda/fn.sock"), env.toString());
        assertTrue(env.contains("GRANDA_FUNCTION=" + FUNCTION_NAME), env.toString());
        assertTrue(env.contains("GRANDA_REVISION=7"), env.toString());
        assertTrue(env.contains("GRANDA_INSTANCE=" + spec.instanceId), env.toString());
        assertTrue(env.contains("GREETING=hi"), env.toString());
        HardeningAssertions.assertHardenedByDefault(c);
        assertFalse(Boolean.TRUE.equals(c.getConfig().getTty()), "tty");
        assertFalse(Boolean.TRUE.equals(c.getConfig().getStdinOpen()), "stdin");
    }

    @Test
    void runDirectoryIsPrivateAndInstanceDirectoriesBelongToTheContainersUser() throws IOException {
        HotInstance hot = instance().start();

        Path run = runDirectory();
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(run)));
        assertEquals(OWNER, Files.readString(run.resolve(RunDirectory.MARKER)).strip());
        Path dir = hot.socket().getParent();
        assertEquals(run, dir.getParent());
        // Given to the container's user (nobody) when this process may (root), else open to all: the run
        // directory's 0700 keeps the host's other users out either way.
        boolean root = Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        assertEquals(root ? "rwx------" : "rwxrwxrwx", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)));
        if (root) {
            assertEquals(65534, Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS));
            assertEquals(65534, Files.getAttribute(dir, "unix:gid", LinkOption.NOFOLLOW_LINKS));
        }

        backend().destroyInstance(hot);
        assertFalse(Files.exists(dir), "instance directory left: " + dir);
    }

    @Test
    void failedStartsLeaveNoDirectory() {
        assertThrows(FunctionNotReadyException.class,
                () -> instance().env("HOT_ECHO_EXIT_AT_START", "2").attemptStart());
        assertThrows(FunctionNotReadyException.class,
                () -> instance().env("HOT_ECHO_NEVER_READY", "1").startTimeout(Duration.ofMillis(300))
                        .attemptStart());

        assertEquals(List.of(), instanceDirectories(runDirectory()));
    }

    @Test
    void notReadyMessagesSayWhatHappened() {
        FunctionNotReadyException exited = assertThrows(FunctionNotReadyException.class,
                () -> instance().env("HOT_ECHO_EXIT_AT_START", "3").attemptStart());
        assertEquals("function '" + FUNCTION_NAME + "' exited with code 3 before it became ready",
                exited.getMessage());

        FunctionNotReadyException late = assertThrows(FunctionNotReadyException.class,
                () -> instance().env("HOT_ECHO_NEVER_READY", "1").startTimeout(Duration.ofSeconds(1))
                        .attemptStart());
        assertEquals("function '" + FUNCTION_NAME + "' did not become ready within 1 s: it never created"
                + " /granda/fn.sock", late.getMessage());
    }

    @Test
    void reapLeavesAnotherOwnersInstancesAndRunDirectoryAlone() throws IOException {
        String otherOwner = "test-hot-other-" + UUID.randomUUID().toString().substring(0, 8);
        try (DockerBackend other = new DockerBackend(DockerBackendConfig.defaults(otherOwner))) {
            HotInstance theirs = other.startInstance(instance().spec());
            HotInstance ours = instance().start();

            assertEquals(1, backend().reapLeftovers());

            assertFalse(HotSocketClient.accepts(ours.socket()));
            assertFalse(Files.exists(ours.socket().getParent()), "our instance directory was left");
            assertTrue(HotSocketClient.accepts(theirs.socket()), "another owner's instance was touched");
            assertTrue(docker.inspectContainerCmd(theirs.backendRef()).exec().getState().getRunning());
            assertTrue(Files.isDirectory(theirs.socket().getParent()));
        }
    }

    @Test
    void reapDeletesADirectoryLeftWithoutItsContainer() throws IOException {
        // As after a crash between making the directory and creating the container.
        HotInstance hot = instance().start();
        backend().destroyInstance(hot);
        Path orphan = Files.createDirectory(runDirectory().resolve(Ids.newTimeOrderedId(Instant.now())));
        Files.writeString(orphan.resolve("fn.sock.new"), "");

        assertEquals(0, backend().reapLeftovers(), "a directory is not an instance");
        assertFalse(Files.exists(orphan));
    }

    @Test
    void imageWhoseEntrypointCannotRunIsNotReadyWithTheEnginesReason() throws Exception {
        String image = "granda-test-broken-hot:" + UUID.randomUUID().toString().substring(0, 8);
        Path context = Files.createTempDirectory("granda-broken-hot");
        try {
            Files.writeString(context.resolve("Dockerfile"),
                    "FROM " + HOT_IMAGE + "\nENTRYPOINT [\"/no/such/binary\"]\n");
            docker.buildImageCmd(context.toFile()).withTags(Set.of(image)).withPull(false)
                    .exec(new BuildImageResultCallback()).awaitImageId(60, TimeUnit.SECONDS);

            Spec spec = instance(image);
            FunctionNotReadyException e = assertThrows(FunctionNotReadyException.class, spec::attemptStart);
            assertTrue(e.getMessage().startsWith("function '" + FUNCTION_NAME + "' could not start: "),
                    e.getMessage());
            assertTrue(e.logTail().contains("/no/such/binary"), e.logTail());
            assertEquals(0, backend().reapLeftovers());
            assertEquals(List.of(), instanceDirectories(runDirectory()));
        } finally {
            try {
                docker.removeImageCmd(image).withForce(true).exec();
            } catch (NotFoundException ignored) {
                // The build failed before tagging.
            }
            RunDirectory.deleteTree(context);
        }
    }

    @Test
    void aPausedInstanceIsReapedAndDestroyed() {
        HotInstance reaped = instance().start();
        HotInstance destroyed = instance().start();
        backend().pauseInstance(reaped);
        backend().pauseInstance(destroyed);

        backend().destroyInstance(destroyed);
        assertThrows(NotFoundException.class, () -> docker.inspectContainerCmd(destroyed.backendRef()).exec());
        assertEquals(1, backend().reapLeftovers());
        assertThrows(NotFoundException.class, () -> docker.inspectContainerCmd(reaped.backendRef()).exec());
    }

    @Test
    void pauseFreezesAndResumeThaws() throws IOException {
        // Not a declared capability (the pool does not use it), but it works.
        assertFalse(backend().capabilities().contains(BackendCapability.PAUSE));
        HotInstance hot = instance().start();

        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            backend().pauseInstance(hot);
            backend().pauseInstance(hot); // idempotent
            assertTrue(docker.inspectContainerCmd(hot.backendRef()).exec().getState().getPaused());
            assertThrows(SocketTimeoutException.class, () -> client.send("GET", "/", Map.of(), new byte[0],
                    Duration.ofMillis(300)));

            backend().resumeInstance(hot);
            backend().resumeInstance(hot); // idempotent
        }
        try (HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            assertEquals(200, client.get("/").status());
        }
    }

    /**
     * The CPU meter counts CPU time, not wall time: a call that spins 300 ms of CPU shows about that, one that sleeps
     * 300 ms shows almost none. Bounds are wide (the container's own bookkeeping and a loaded machine add a little).
     */
    @Test
    void theCpuMeterReadsTheContainersCpuTimeNotItsWallTime() throws IOException {
        HotInstance hot = instance().start();
        try (CpuMeter meter = backend().cpuMeter(hot);
             HotSocketClient client = HotSocketClient.connect(hot.socket())) {
            long before = meter.usedMicros();
            assertTrue(before >= 0, "a local engine's container has readable CPU accounting");
            assertEquals(200, client.get("/spin/300").status());
            long spun = meter.usedMicros() - before;
            assertTrue(spun >= 280_000 && spun < 1_000_000, "spinning 300 ms used " + spun + " us of CPU");

            long beforeSleep = meter.usedMicros();
            assertEquals(200, client.get("/sleep/300").status());
            long slept = meter.usedMicros() - beforeSleep;
            assertTrue(slept >= 0 && slept < 50_000, "sleeping 300 ms used " + slept + " us of CPU");
        }
        backend().destroyInstance(hot);
    }

    @Test
    void pausingAGoneInstanceIsAPlatformError() {
        HotInstance hot = instance().start();
        backend().destroyInstance(hot);

        assertThrows(BackendUnavailableException.class, () -> backend().pauseInstance(hot));
        assertThrows(BackendUnavailableException.class, () -> backend().resumeInstance(hot));
    }

    @Test
    void createRefusedByTheEngineIsAPlatformErrorAndLeavesNothing() {
        // Docker refuses memory limits under 6 MiB at create time.
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> instance().memoryMb(1).attemptStart());
        assertTrue(e.getMessage().contains("HTTP 400"), e.getMessage());
        assertEquals(0, backend().reapLeftovers());
        assertEquals(List.of(), instanceDirectories(runDirectory()));
    }

    @Test
    void unreachableEngineIsAPlatformErrorAndLeavesNoDirectory() {
        Path run = runDirectory().resolveSibling("granda-" + OWNER + "-down");
        try (DockerBackend down = new DockerBackend(DockerBackendConfig.defaults(OWNER)
                .withDockerHost("unix:///nonexistent.sock").withRunDirectory(run))) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                    () -> down.startInstance(instance().spec()));
            assertTrue(e.getMessage().contains("unix:///nonexistent.sock"), e.getMessage());
            assertEquals(List.of(), instanceDirectories(run));
        }
        assertFalse(Files.exists(run), "close left the run directory");
    }

    @Test
    void aForeignNonEmptyRunDirectoryIsRefusedAndLeftAlone() throws IOException {
        Path foreign = Files.createTempDirectory("granda-foreign");
        Path precious = Files.writeString(foreign.resolve("precious.txt"), "keep me");
        try (DockerBackend backend = new DockerBackend(DockerBackendConfig.defaults(OWNER)
                .withRunDirectory(foreign))) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                    () -> backend.startInstance(instance().spec()));
            assertTrue(e.getMessage().contains("not a Granda run directory"), e.getMessage());
            backend.reapLeftovers();
        }
        assertEquals("keep me", Files.readString(precious));
        RunDirectory.deleteTree(foreign);
    }

    @Test
    void instanceIdsThatAreNotSafeDirectoryNamesAreRefused() {
        var spec = new io.granda.core.spi.InstanceSpec("../escape", "fn", "f", 1, HOT_IMAGE, Map.of(), 64,
                Duration.ofSeconds(1));
        assertThrows(IllegalArgumentException.class, () -> backend().startInstance(spec));
    }

    /** The entries of a run directory but its own files (marker, hosts file): what instances left. */
    private static List<String> instanceDirectories(Path dir) {
        return entries(dir).stream().filter(e -> !e.equals(RunDirectory.MARKER) && !e.equals(RunDirectory.HOSTS))
                .toList();
    }

    private static List<String> entries(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
