package io.granda.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ulimit;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asserts that a container carries the default lock-down of {@link DockerBackendConfig.Hardening#DEFAULTS}. */
final class HardeningAssertions {

    private HardeningAssertions() {
    }

    static void assertHardenedByDefault(InspectContainerResponse c) {
        HostConfig host = c.getHostConfig();
        assertEquals("none", host.getNetworkMode(), "network");
        assertEquals("65534:65534", c.getConfig().getUser(), "user");
        assertEquals(Boolean.TRUE, host.getReadonlyRootfs(), "read-only root file system");
        assertEquals(Map.of("/tmp", "rw,nosuid,nodev,noexec,size=64m,mode=1777"), host.getTmpFs(), "tmpfs");
        assertArrayEquals(new Capability[] {Capability.ALL}, host.getCapDrop(), "cap drop");
        assertTrue(host.getCapAdd() == null || host.getCapAdd().length == 0, "cap add");
        assertEquals(List.of("no-new-privileges"), host.getSecurityOpts(), "security opts");
        assertFalse(Boolean.TRUE.equals(host.getPrivileged()), "privileged");
        assertEquals(128L, host.getPidsLimit(), "pids limit");
        assertEquals(1_000_000_000L, host.getNanoCPUs(), "NanoCPUs");
        assertEquals(host.getMemory(), host.getMemorySwap(), "no swap");
        assertTrue(host.getMemory() != null && host.getMemory() > 0, "memory limit");
        Ulimit[] ulimits = host.getUlimits();
        assertEquals(1, ulimits.length);
        assertEquals("nofile", ulimits[0].getName());
        assertEquals(1024L, ulimits[0].getSoftLong());
        assertEquals(1024L, ulimits[0].getHardLong());
        assertEquals("json-file", host.getLogConfig().getType().getType(), "log driver");
        assertEquals(Map.of("max-size", "1m", "max-file", "1"), host.getLogConfig().getConfig(), "log options");
        // The Docker socket is never reachable from a function.
        Stream<String> sources = Stream.concat(
                host.getBinds() == null ? Stream.empty() : Stream.of(host.getBinds()).map(Bind::getPath),
                c.getMounts() == null ? Stream.empty() : c.getMounts().stream().map(m -> String.valueOf(m.getSource())));
        sources.forEach(s -> assertFalse(s.endsWith("docker.sock") || s.equals("/var/run") || s.equals("/run"),
                "mounts " + s));
    }
}
