package io.granda.docker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * Reads how many processes of a container the kernel's OOM killer has killed, from the container's memory cgroup: the
 * {@code oom_kill} line of cgroup v1's {@code memory.oom_control} or of cgroup v2's {@code memory.events}.
 *
 * <p>Why not only the engine's {@code State.OOMKilled}: Docker learns of an OOM kill from its containerd shim, which
 * starts watching the cgroup only once the process has started, so a kill in the first milliseconds goes unrecorded.
 * A memory hog manages that easily while the engine is busy starting other containers (seen here on Docker 20.10 with
 * containerd 1.6: 3 of 12 hogs started among other containers were reported as a plain exit 137). The kernel's counter
 * counts from the cgroup's creation.
 *
 * <p>The cgroup is found by the container id where the engine puts it by default (cgroupfs: {@code docker/<id>};
 * systemd: {@code system.slice/docker-<id>.scope}; under the {@code memory} hierarchy on cgroup v1), else through
 * {@code /proc/<pid>/cgroup} of a process of the container. Only possible with a local engine. The cgroup goes with
 * its container, a little before the engine reports the exit: a read after that returns -1.
 *
 * <p>A read is one positional read of a small pseudo-file held open. Thread-safe.
 */
final class CgroupOomCounter implements AutoCloseable {

    private static final String V1_FILE = "memory.oom_control";
    private static final String V2_FILE = "memory.events";

    private final FileChannel file;

    private CgroupOomCounter(FileChannel file) {
        this.file = file;
    }

    /**
     * @param containerId the container's full id
     * @param pid         a process of the container as the host sees it, or 0 when unknown: then only the default
     *                    layouts are tried
     * @param procRoot    the host's {@code /proc}
     * @param cgroupRoot  the host's cgroup mount, {@code /sys/fs/cgroup}
     * @return the counter, empty when the cgroup cannot be found or read (gone, remote engine, unknown layout)
     */
    static Optional<CgroupOomCounter> find(String containerId, long pid, Path procRoot, Path cgroupRoot) {
        for (String dir : List.of("docker/" + containerId, "system.slice/docker-" + containerId + ".scope")) {
            Optional<CgroupOomCounter> c = open(cgroupRoot.resolve("memory").resolve(dir).resolve(V1_FILE))
                    .or(() -> open(cgroupRoot.resolve(dir).resolve(V2_FILE)));
            if (c.isPresent()) {
                return c;
            }
        }
        return pid > 0 ? throughProcess(pid, procRoot, cgroupRoot) : Optional.empty();
    }

    private static Optional<CgroupOomCounter> throughProcess(long pid, Path procRoot, Path cgroupRoot) {
        for (ProcessCgroups.Hierarchy h : ProcessCgroups.of(pid, procRoot).hierarchies()) {
            if (h.controllers().contains("memory")) {
                return open(cgroupRoot.resolve("memory").resolve(h.path()).resolve(V1_FILE));
            }
            if (h.unified()) {
                Optional<CgroupOomCounter> c = open(cgroupRoot.resolve(h.path()).resolve(V2_FILE));
                if (c.isPresent()) {
                    return c;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<CgroupOomCounter> open(Path path) {
        if (!Files.isReadable(path)) {
            return Optional.empty();
        }
        try {
            CgroupOomCounter counter = new CgroupOomCounter(FileChannel.open(path, StandardOpenOption.READ));
            if (counter.kills() < 0) {
                counter.close();
                return Optional.empty();
            }
            return Optional.of(counter);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** @return processes the OOM killer killed in the container so far, -1 once the cgroup is gone or unreadable */
    long kills() {
        ByteBuffer buf = ByteBuffer.allocate(512);
        try {
            int total = 0;
            int n;
            while (buf.hasRemaining() && (n = file.read(buf, total)) > 0) {
                total += n;
            }
            return parse(new String(buf.array(), 0, total, StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The "oom_kill N" line of memory.oom_control (v1) or memory.events (v2); -1 without one. */
    static long parse(String text) {
        for (String line : text.split("\n")) {
            if (line.startsWith("oom_kill ")) {
                return Long.parseLong(line.substring("oom_kill ".length()).strip());
            }
        }
        return -1;
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (IOException e) {
            // A pseudo-file of a cgroup that may be gone already: nothing to release but the descriptor.
        }
    }
}
