package io.granda.docker;

import io.granda.core.spi.CpuMeter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finding and reading a cgroup's CPU accounting on hosts laid out as cgroup v1 (either mount name of cpuacct), cgroup
 * v2, and hybrid, using fake /proc and /sys/fs/cgroup trees.
 */
class CgroupCpuMeterTest {

    @TempDir
    Path root;

    private Path proc(long pid, String cgroupFile) throws IOException {
        Path dir = Files.createDirectories(root.resolve("proc").resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("cgroup"), cgroupFile);
        return root.resolve("proc");
    }

    private Path write(String relative, String content) throws IOException {
        Path f = root.resolve("cgroup").resolve(relative);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content);
        return f;
    }

    @Test
    void cgroupV1CpuacctUsageIsNanoseconds() throws IOException {
        Path proc = proc(42, "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n");
        Path usage = write("cpu,cpuacct/docker/abc/cpuacct.usage", "1234567890\n");
        try (CpuMeter m = CgroupCpuMeter.open(42, proc, root.resolve("cgroup")).orElseThrow()) {
            assertEquals(1_234_567, m.usedMicros());
            Files.writeString(usage, "2234567890\n");
            assertEquals(2_234_567, m.usedMicros(), "every read sees the current value");
        }
    }

    @Test
    void cgroupV1WithCpuacctMountedAlone() throws IOException {
        Path proc = proc(7, "3:cpuacct:/system.slice/docker-abc.scope\n");
        write("cpuacct/system.slice/docker-abc.scope/cpuacct.usage", "5000\n");
        assertEquals(5, CgroupCpuMeter.open(7, proc, root.resolve("cgroup")).orElseThrow().usedMicros());
    }

    @Test
    void cgroupV2ReadsUsageUsecOfCpuStat() throws IOException {
        Path proc = proc(9, "0::/system.slice/docker-abc.scope\n");
        write("system.slice/docker-abc.scope/cpu.stat", "usage_usec 777\nuser_usec 700\nsystem_usec 77\n");
        assertEquals(777, CgroupCpuMeter.open(9, proc, root.resolve("cgroup")).orElseThrow().usedMicros());
    }

    @Test
    void hybridHostsHaveV2UnderUnified() throws IOException {
        Path proc = proc(10, "0::/docker/abc\n");
        write("unified/docker/abc/cpu.stat", "usage_usec 31\n");
        assertEquals(31, CgroupCpuMeter.open(10, proc, root.resolve("cgroup")).orElseThrow().usedMicros());
    }

    @Test
    void noReadableCgroupMeansNoMeterAndAClosedMeterReadsUnknown() throws IOException {
        Path proc = proc(11, "4:cpu,cpuacct:/docker/gone\n");
        assertTrue(CgroupCpuMeter.open(11, proc, root.resolve("cgroup")).isEmpty());
        assertTrue(CgroupCpuMeter.open(12, proc, root.resolve("cgroup")).isEmpty(), "no such process");

        Path proc2 = proc(13, "4:cpu,cpuacct:/docker/abc\n");
        write("cpu,cpuacct/docker/abc/cpuacct.usage", "1000\n");
        CpuMeter m = CgroupCpuMeter.open(13, proc2, root.resolve("cgroup")).orElseThrow();
        m.close();
        assertEquals(-1, m.usedMicros());
    }
}
