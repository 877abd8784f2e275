package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The exit watch behind a hot instance's start: the engine's wait, and the inspect fallback when the wait fails. */
@Timeout(60)
class ContainerExitWatchTest {

    private static final String OWNER = "test-exitwatch-" + UUID.randomUUID().toString().substring(0, 8);
    private static DockerClient docker;

    @BeforeAll
    static void connect() {
        String host = DockerBackendConfig.defaultDockerHost();
        docker = DockerClientImpl.getInstance(
                DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host).build(),
                new ApacheDockerHttpClient.Builder().dockerHost(URI.create(host)).build());
    }

    @AfterAll
    static void disconnect() throws IOException {
        try (DockerBackend reaper = new DockerBackend(DockerBackendConfig.defaults(OWNER))) {
            reaper.reapLeftovers();
        }
        docker.close();
    }

    @Test
    void reportsTheExitCodeOfAProcessThatEnds() throws InterruptedException {
        String id = started("sleep 0.2; exit 5");
        try (ContainerExitWatch watch = ContainerExitWatch.start(docker, id)) {
            assertEquals(5, awaitExit(watch));
        }
    }

    @Test
    void saysNothingWhileTheProcessRunsAndClosesCleanly() throws InterruptedException {
        String id = started("sleep 300");
        try (ContainerExitWatch watch = ContainerExitWatch.start(docker, id)) {
            Thread.sleep(200);
            assertNull(watch.exitCode());
        }
        docker.removeContainerCmd(id).withForce(true).exec();
    }

    @Test
    void closingBeforeTheEngineAnsweredStillEndsTheWait() throws InterruptedException {
        // Closed at once: docker-java would reopen the callback when its stream starts later; the watch must not.
        String id = started("sleep 300");
        long before = streamThreads();
        ContainerExitWatch.start(docker, id).close();

        // The container still runs: only the watch's close can have ended its wait (and freed its thread).
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (streamThreads() > before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before, streamThreads(), "the engine wait outlived the closed watch");
        docker.removeContainerCmd(id).withForce(true).exec();
    }

    /** docker-java runs each streamed request on a thread of its own, named docker-java-stream-<n>. */
    private static long streamThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("docker-java-stream")).count();
    }

    @Test
    void aFailedWaitFallsBackToInspecting() throws InterruptedException {
        // The engine refuses the wait for an unknown container (404): the watch inspects instead, which finds it gone.
        try (ContainerExitWatch watch = ContainerExitWatch.start(docker, "granda-no-such-container-" + OWNER)) {
            assertEquals(ContainerExitWatch.UNKNOWN_EXIT, awaitExit(watch));
        }
    }

    private static int awaitExit(ContainerExitWatch watch) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            Integer code = watch.exitCode();
            if (code != null) {
                return code;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no exit seen");
    }

    private static String started(String script) {
        String id = docker.createContainerCmd("granda-test-busybox:latest")
                .withLabels(Map.of(DockerBackend.LABEL_OWNER, OWNER))
                .withEnv("SCRIPT=" + script)
                .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none"))
                .exec().getId();
        docker.startContainerCmd(id).exec();
        return id;
    }
}
