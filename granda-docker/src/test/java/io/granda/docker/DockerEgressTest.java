package io.granda.docker;

import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Egress is an exception an operator grants by function name: those functions' containers join the operator's
 * Docker network, every other function keeps no network. Against a real engine, with an {@code --internal} network
 * (no route out, so the test sends nothing anywhere): the interfaces a function sees are read from /proc/net/dev.
 */
class DockerEgressTest {

    private static final String OWNER = "test-egress-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String NETWORK = "granda-egress-test-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String IMAGE = "granda-test-busybox:latest";

    @BeforeAll
    static void createNetwork() {
        TestDocker.connect(IMAGE);
        docker("network", "create", "--internal", NETWORK);
    }

    @AfterAll
    static void removeNetwork() {
        docker("network", "rm", NETWORK);
    }

    /** Runs the docker CLI (the engine's own network commands; Granda never creates networks). */
    private static void docker(String... args) {
        try {
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("docker"));
            cmd.addAll(java.util.List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), "docker " + String.join(" ", args) + ": " + out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static RunOnceRequest interfacesOf(String functionName) {
        return new RunOnceRequest(UUID.randomUUID().toString(), "id-" + functionName, functionName, 1, IMAGE,
                Map.of("SCRIPT", "cat /proc/net/dev"), 64, Duration.ofSeconds(30), new byte[0], 65536, 4096);
    }

    @Test
    void onlyTheFunctionsAnOperatorAllowsJoinTheEgressNetwork() {
        DockerBackendConfig config = DockerBackendProvider.config(OWNER, Map.of(
                DockerBackendProvider.EGRESS_NETWORK, NETWORK,
                DockerBackendProvider.EGRESS_FUNCTIONS, "fetcher; mailer"));
        try (DockerBackend backend = new DockerBackend(config)) {
            RunOnceResult allowed = backend.runOnce(interfacesOf("fetcher"));
            RunOnceResult other = backend.runOnce(interfacesOf("renderer"));

            String allowedInterfaces = new String(allowed.stdout(), StandardCharsets.UTF_8);
            String otherInterfaces = new String(other.stdout(), StandardCharsets.UTF_8);
            assertEquals(0, allowed.exitCode(), allowed.stderrTail());
            assertTrue(allowedInterfaces.contains("eth0:"), "the allowed function has an interface: " + allowedInterfaces);
            assertTrue(otherInterfaces.contains("lo:"), otherInterfaces);
            assertFalse(otherInterfaces.contains("eth0:"), "every other function has none: " + otherInterfaces);
        }
    }

    @Test
    void runAndHotContainersOfAFunctionGetTheSameNetworkMode() {
        DockerBackendConfig config = DockerBackendConfig.defaults(OWNER)
                .withEgress(new DockerBackendConfig.Egress(NETWORK, Set.of("fetcher")));
        assertEquals(NETWORK, config.networkModeFor("fetcher"));
        assertEquals("none", config.networkModeFor("renderer"));
        try (DockerBackend backend = new DockerBackend(config)) {
            // Run mode and hot mode build their containers' host config with this one method.
            assertEquals(NETWORK, backend.hostConfig(64L << 20, "fetcher").getNetworkMode());
            assertEquals("none", backend.hostConfig(64L << 20, "renderer").getNetworkMode());
        }
    }

    @Test
    void egressWithoutANetworkOrOnTheHostNetworkIsRefused() {
        var noNetwork = assertThrows(IllegalArgumentException.class, () -> DockerBackendProvider.config(OWNER,
                Map.of(DockerBackendProvider.EGRESS_FUNCTIONS, "fetcher")));
        assertTrue(noNetwork.getMessage().contains("docker.egress-network"), noNetwork.getMessage());
        var host = assertThrows(IllegalArgumentException.class, () -> DockerBackendProvider.config(OWNER,
                Map.of(DockerBackendProvider.EGRESS_NETWORK, "host", DockerBackendProvider.EGRESS_FUNCTIONS, "x")));
        assertTrue(host.getMessage().contains("not 'host'"), host.getMessage());
    }
}
