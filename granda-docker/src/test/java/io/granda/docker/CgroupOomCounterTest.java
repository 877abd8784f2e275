package io.granda.docker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finding a container's memory cgroup by its id under the engine's default layouts or through a process of it, and
 * reading its OOM-kill count, on cgroup v1 and v2 hosts, using fake /proc and /sys/fs/cgroup trees.
 */
class CgroupOomCounterTest {

    private static final String ID = "6383427db251317ec4080fd22662ba8d9b465c891e6e274eac0eff60816f1ed9";

    @TempDir
    Path root;

    private Path cgroup() {
        return root.resolve("cgroup");
    }

    private Path proc(long pid, String cgroupFile) throws IOException {
        Path dir = Files.createDirectories(root.resolve("proc").resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("cgroup"), cgroupFile);
        return root.resolve("proc");
    }

    private Path write(String relative, String content) throws IOException {
        Path f = cgroup().resolve(relative);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content);
        return f;
    }

    @Test
    void cgroupV1WithTheCgroupfsDriverIsFoundByIdAndEveryReadIsCurrent() throws IOException {
        Path file = write("memory/docker/" + ID + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        try (CgroupOomCounter c = CgroupOomCounter.find(ID, 0, root.resolve("proc"), cgroup()).orElseThrow()) {
            assertEquals(0, c.kills());
            Files.writeString(file, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
            assertEquals(2, c.kills());
        }
    }

    @Test
    void cgroupV2WithTheSystemdDriverIsFoundById() throws IOException {
        write("system.slice/docker-" + ID + ".scope/memory.events",
                "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
        assertEquals(1, CgroupOomCounter.find(ID, 0, root.resolve("proc"), cgroup()).orElseThrow().kills());
    }

    @Test
    void anotherLayoutIsFoundThroughAProcessOfTheContainer() throws IOException {
        Path proc = proc(42, "12:pids:/custom/" + ID + "\n4:memory:/custom/" + ID + "\n1:name=systemd:/custom/x\n");
        write("memory/custom/" + ID + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        assertTrue(CgroupOomCounter.find(ID, 0, proc, cgroup()).isEmpty(), "not a default layout");
        assertEquals(1, CgroupOomCounter.find(ID, 42, proc, cgroup()).orElseThrow().kills());

        Path procV2 = proc(43, "0::/user.slice/app-" + ID + ".scope\n");
        write("user.slice/app-" + ID + ".scope/memory.events", "oom 0\noom_kill 0\n");
        assertEquals(0, CgroupOomCounter.find(ID, 43, procV2, cgroup()).orElseThrow().kills());
    }

    @Test
    void noCgroupMeansNoCounterAndAGoneOneReadsUnknown() throws IOException {
        assertTrue(CgroupOomCounter.find(ID, 0, root.resolve("proc"), cgroup()).isEmpty());
        assertTrue(CgroupOomCounter.find(ID, 99, root.resolve("proc"), cgroup()).isEmpty(), "no such process");
        write("memory/docker/other/memory.oom_control", "oom_kill 0\n");
        assertTrue(CgroupOomCounter.find(ID, 0, root.resolve("proc"), cgroup()).isEmpty(), "another container's");

        write("docker/" + ID + "/memory.events", "oom_kill 0\n");
        CgroupOomCounter c = CgroupOomCounter.find(ID, 0, root.resolve("proc"), cgroup()).orElseThrow();
        c.close();
        assertEquals(-1, c.kills());
    }

    @Test
    void aFileWithoutTheCountIsNoCounter() throws IOException {
        // Kernels before 4.13 had no oom_kill line in memory.oom_control.
        write("memory/docker/" + ID + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
        assertTrue(CgroupOomCounter.find(ID, 0, root.resolve("proc"), cgroup()).isEmpty());
        assertEquals(-1, CgroupOomCounter.parse(""));
        assertEquals(7, CgroupOomCounter.parse("oom 7\noom_kill 7\n"));
    }
}
