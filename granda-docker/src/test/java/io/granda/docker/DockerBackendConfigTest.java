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
                Duration.ofSeconds(-1), null, Duration.ofSeconds(1), "", Path.of("relative"),
                new DockerBackendConfig.Hardening("a b", true, -1, true, true, true, -1, -1, -1, "1x", 0),
                new DockerBackendConfig.Egress("", java.util.Set.of("fetcher")));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c::validate);
        for (String name : new String[] {"dockerHost", "ownerId", "maxConnections", "connectTimeout",
                "responseTimeout", "pullTimeout", "networkMode", "runDirectory", "hardening.user", "hardening.tmpSizeMb",
                "hardening.pidsLimit", "hardening.cpus", "hardening.nofileLimit", "hardening.logMaxSize",
                "hardening.logMaxFiles", "egress network"}) {
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
                Path.of("/run/granda-n"), DockerBackendConfig.Hardening.DEFAULTS, DockerBackendConfig.Egress.NONE), c);
    }

    @Test
    void hardeningIsOnByDefaultAndEachPartCanBeChanged() {
        DockerBackendConfig.Hardening d = DockerBackendConfig.defaults("n").hardening();
        assertEquals(new DockerBackendConfig.Hardening("65534:65534", true, 64, true, true, true, 128, 1.0, 1024,
                "1m", 1), d);
        assertEquals(65534, d.numericUid());
        assertEquals(65534, d.numericGid());
        assertEquals("rw,nosuid,nodev,noexec,size=64m,mode=1777", d.tmpOptions());

        DockerBackendConfig c = DockerBackendProvider.config("n", Map.ofEntries(
                Map.entry(DockerBackendProvider.USER, " "),
                Map.entry(DockerBackendProvider.READ_ONLY_ROOTFS, "false"),
                Map.entry(DockerBackendProvider.TMP_SIZE_MB, "16"),
                Map.entry(DockerBackendProvider.TMP_NOEXEC, "no"),
                Map.entry(DockerBackendProvider.CAP_DROP_ALL, "off"),
                Map.entry(DockerBackendProvider.NO_NEW_PRIVILEGES, "false"),
                Map.entry(DockerBackendProvider.PIDS_LIMIT, "0"),
                Map.entry(DockerBackendProvider.CPUS, "0.5"),
                Map.entry(DockerBackendProvider.NOFILE_LIMIT, "4096"),
                Map.entry(DockerBackendProvider.LOG_MAX_SIZE, "10M"),
                Map.entry(DockerBackendProvider.LOG_MAX_FILES, "3")));
        assertEquals(new DockerBackendConfig.Hardening("", false, 16, false, false, false, 0, 0.5, 4096, "10m", 3),
                c.hardening());
        assertEquals(-1, c.hardening().numericUid());
        assertEquals("1000", DockerBackendProvider.config("n", Map.of(DockerBackendProvider.USER, "1000"))
                .hardening().user());
        assertEquals(1000, DockerBackendProvider.config("n", Map.of(DockerBackendProvider.USER, "1000"))
                .hardening().numericGid());

        for (String[] bad : new String[][] {{DockerBackendProvider.CPUS, "lots"},
                {DockerBackendProvider.READ_ONLY_ROOTFS, "maybe"}, {DockerBackendProvider.PIDS_LIMIT, "-1"},
                {DockerBackendProvider.LOG_MAX_SIZE, "big"}, {DockerBackendProvider.USER, "a b"}}) {
            assertThrows(IllegalArgumentException.class,
                    () -> DockerBackendProvider.config("n", Map.of(bad[0], bad[1])), bad[0]);
        }
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
