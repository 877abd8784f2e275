package io.granda.docker;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Docker backend's configuration: safe defaults, and clear refusals. */
class DockerBackendConfigTest {

    @Test
    void defaultsAreValidAndGiveFunctionsNoNetwork() {
        DockerBackendConfig c = DockerBackendConfig.defaults("node-1");

        assertSame(c, c.validate());
        assertEquals("none", c.networkMode());
        assertEquals(DockerBackendConfig.defaultDockerHost(), c.dockerHost());
        assertTrue(c.teardownTimeout().compareTo(Duration.ZERO) > 0);
    }

    @Test
    void validateNamesEveryProblem() {
        DockerBackendConfig c = new DockerBackendConfig("http://localhost:2375", " ", 0, Duration.ZERO,
                Duration.ofSeconds(-1), null, Duration.ofSeconds(1), "", Path.of("relative"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c::validate);
        for (String name : new String[] {"dockerHost", "ownerId", "maxConnections", "connectTimeout",
                "responseTimeout", "pullTimeout", "networkMode", "runDirectory"}) {
            assertTrue(e.getMessage().contains(name), name + " missing from: " + e.getMessage());
        }
    }

    @Test
    void ownerIdMustBeSafeInALabelFilter() {
        assertThrows(IllegalArgumentException.class,
                () -> DockerBackendConfig.defaults("a=b").validate());
        assertThrows(IllegalArgumentException.class,
                () -> DockerBackendConfig.defaults(null).validate());
        DockerBackendConfig.defaults("test-1a2b.c_d").validate();
    }

    @Test
    void hostsMustBeUnixSocketsOrPlainTcp() {
        DockerBackendConfig.defaults("n").withDockerHost("unix:///run/docker.sock").validate();
        DockerBackendConfig.defaults("n").withDockerHost("tcp://127.0.0.1:2375").validate();
        assertThrows(IllegalArgumentException.class,
                () -> DockerBackendConfig.defaults("n").withDockerHost("tcp://127.0.0.1").validate());
        assertThrows(IllegalArgumentException.class,
                () -> DockerBackendConfig.defaults("n").withDockerHost("npipe:////./pipe/docker").validate());
    }

    @Test
    void providerReadsSettingsWithUnitsOrIso() {
        DockerBackendConfig c = DockerBackendProvider.config("n", Map.of(
                DockerBackendProvider.HOST, "tcp://localhost:2375",
                DockerBackendProvider.MAX_CONNECTIONS, "12",
                DockerBackendProvider.CONNECT_TIMEOUT, "500ms",
                DockerBackendProvider.RESPONSE_TIMEOUT, "PT45S",
                DockerBackendProvider.PULL_TIMEOUT, "2m",
                DockerBackendProvider.TEARDOWN_TIMEOUT, "7s",
                DockerBackendProvider.NETWORK_MODE, "bridge",
                DockerBackendProvider.RUN_DIRECTORY, "/run/granda-n",
                "unknown.key", "ignored"));

        assertEquals(new DockerBackendConfig("tcp://localhost:2375", "n", 12, Duration.ofMillis(500),
                Duration.ofSeconds(45), Duration.ofMinutes(2), Duration.ofSeconds(7), "bridge",
                Path.of("/run/granda-n")), c);
    }

    @Test
    void runDirectoryDefaultsToTheTempDirectoryAndTheOwner() {
        assertEquals(Path.of(System.getProperty("java.io.tmpdir"), "granda-node-1").toAbsolutePath(),
                DockerBackendConfig.defaults("node-1").runDirectory());
    }

    @Test
    void runDirectoryTooLongForASocketPathIsRefusedWithTheLimit() {
        // <dir>/<26-char id>/fn.sock: 1 + 26 + 1 + 7 = 35 bytes after the directory, 107 in all.
        Path fits = Path.of("/" + "d".repeat(71));
        Path tooLong = Path.of("/" + "d".repeat(72));
        DockerBackendConfig.defaults("n").withRunDirectory(fits).validate();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DockerBackendConfig.defaults("n").withRunDirectory(tooLong).validate());
        assertTrue(e.getMessage().contains("too long for unix sockets"), e.getMessage());
        assertTrue(e.getMessage().contains("108 bytes, the limit is 107"), e.getMessage());
        assertTrue(e.getMessage().contains("at most 72 bytes"), e.getMessage());
    }

    @Test
    void aLongOwnerIdStillHasAValidDefaultRunDirectory() {
        String longOwner = "o".repeat(128);
        DockerBackendConfig c = DockerBackendConfig.defaults(longOwner);

        assertSame(c, c.validate());
        assertTrue(c.runDirectory().getFileName().toString().matches("granda-[0-9a-f]{16}"), c.runDirectory()
                .toString());
        assertEquals(c.runDirectory(), DockerBackendConfig.defaults(longOwner).runDirectory(), "stable per owner");
    }

    @Test
    void providerNamesTheBadSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DockerBackendProvider.config("n", Map.of(DockerBackendProvider.PULL_TIMEOUT, "soon")));
        assertTrue(e.getMessage().contains(DockerBackendProvider.PULL_TIMEOUT), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> DockerBackendProvider.config("n", Map.of(DockerBackendProvider.MAX_CONNECTIONS, "many")));
        assertTrue(e.getMessage().contains(DockerBackendProvider.MAX_CONNECTIONS), e.getMessage());
    }
}
