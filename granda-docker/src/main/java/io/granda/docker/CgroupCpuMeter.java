package io.granda.docker;

import io.granda.core.spi.CpuMeter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * Reads a container's CPU time from its cgroup, as the kernel accounts it for every process in the container: cgroup
 * v1's {@code cpuacct.usage} (nanoseconds) or cgroup v2's {@code usage_usec} line of {@code cpu.stat}. The cgroup is
 * found from {@code /proc/<pid>/cgroup} of the container's first process, so it works with either cgroup driver
 * (cgroupfs or systemd) and any cgroup parent. Only possible where Granda sees the engine's host's {@code /proc} and
 * {@code /sys/fs/cgroup}, i.e. with a local engine; elsewhere {@link #open} finds nothing and the call's CPU time is
 * unknown.
 *
 * <p>A read is one positional read of a small pseudo-file held open (a few microseconds), so it can sit on the call
 * path. Thread-safe: positional reads do not share a file position.
 */
final class CgroupCpuMeter implements CpuMeter {

    private static final Logger LOG = LoggerFactory.getLogger(CgroupCpuMeter.class);
    /** cgroup v1 mounts cpuacct on its own or together with cpu, under either name. */
    static final List<String> V1_CPUACCT_DIRS = List.of("cpuacct", "cpu,cpuacct", "cpuacct,cpu");

    private final FileChannel file;
    private final boolean v2;
    private volatile boolean closed;

    private CgroupCpuMeter(FileChannel file, boolean v2) {
        this.file = file;
        this.v2 = v2;
    }

    /**
     * @param pid        a process of the container, as the host sees it
     * @param procRoot   the host's {@code /proc}
     * @param cgroupRoot the host's cgroup mount, {@code /sys/fs/cgroup}
     * @return a meter, empty when the process's cgroup cannot be found or read
     */
    static Optional<CpuMeter> open(long pid, Path procRoot, Path cgroupRoot) {
        ProcessCgroups cgroups = ProcessCgroups.of(pid, procRoot);
        for (ProcessCgroups.Hierarchy h : cgroups.hierarchies()) {
            if (h.controllers().contains("cpuacct")) {
                for (String dir : V1_CPUACCT_DIRS) {
                    Optional<CpuMeter> m = openFile(cgroupRoot.resolve(dir).resolve(h.path()).resolve("cpuacct.usage"),
                            false);
                    if (m.isPresent()) {
                        return m;
                    }
                }
            }
        }
        for (ProcessCgroups.Hierarchy h : cgroups.hierarchies()) {
            if (h.unified()) {
                Optional<CpuMeter> m = openFile(cgroupRoot.resolve(h.path()).resolve("cpu.stat"), true);
                if (m.isPresent()) {
                    return m;
                }
                // A hybrid host mounts the v2 hierarchy under "unified".
                return openFile(cgroupRoot.resolve("unified").resolve(h.path()).resolve("cpu.stat"), true);
            }
        }
        return Optional.empty();
    }

    private static Optional<CpuMeter> openFile(Path path, boolean v2) {
        if (!Files.isReadable(path)) {
            return Optional.empty();
        }
        try {
            CgroupCpuMeter meter = new CgroupCpuMeter(FileChannel.open(path, StandardOpenOption.READ), v2);
            if (meter.usedMicros() < 0) {
                meter.close();
                return Optional.empty();
            }
            return Optional.of(meter);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public long usedMicros() {
        if (closed) {
            return -1;
        }
        ByteBuffer buf = ByteBuffer.allocate(v2 ? 512 : 32);
        try {
            int total = 0;
            int n;
            while (buf.hasRemaining() && (n = file.read(buf, total)) > 0) {
                total += n;
            }
            String text = new String(buf.array(), 0, total, StandardCharsets.US_ASCII);
            return v2 ? parseV2(text) : parseV1(text);
        } catch (IOException | RuntimeException e) {
            // The cgroup goes with the container: a read racing its removal is no error, just no figure.
            LOG.atTrace().addKeyValue("reason", e.getMessage()).log("cgroup CPU read failed");
            return -1;
        }
    }

    /** cpuacct.usage: total nanoseconds, one number. */
    static long parseV1(String text) {
        String t = text.strip();
        return t.isEmpty() ? -1 : Long.parseLong(t) / 1000;
    }

    /** cpu.stat: "usage_usec N" among other lines. */
    static long parseV2(String text) {
        for (String line : text.split("\n")) {
            if (line.startsWith("usage_usec ")) {
                return Long.parseLong(line.substring("usage_usec ".length()).strip());
            }
        }
        return -1;
    }

    @Override
    public void close() {
        closed = true;
        try {
            file.close();
        } catch (IOException e) {
            // Nothing to do: the file is a pseudo-file of a cgroup that may be gone already.
        }
    }
}
