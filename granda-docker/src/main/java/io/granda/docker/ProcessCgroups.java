package io.granda.docker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The cgroups a process belongs to, as {@code /proc/<pid>/cgroup} lists them: one line per hierarchy,
 * {@code hierarchy-id:controllers:path}; cgroup v2's single hierarchy is {@code 0::path}. The one parser of that file
 * for the readers of a container's cgroup ({@link CgroupCpuMeter}, {@link CgroupOomCounter}).
 *
 * @param hierarchies the process's hierarchies, in the file's order
 */
record ProcessCgroups(List<Hierarchy> hierarchies) {

    /**
     * One line of the file.
     *
     * @param id          the hierarchy's id, {@code 0} for cgroup v2
     * @param controllers the v1 controllers mounted on it, empty for cgroup v2
     * @param path        the process's cgroup in it, relative (no leading {@code /})
     */
    record Hierarchy(String id, List<String> controllers, String path) {

        /** @return whether this is cgroup v2's unified hierarchy */
        boolean unified() {
            return id.equals("0") && controllers.isEmpty();
        }
    }

    ProcessCgroups {
        hierarchies = List.copyOf(hierarchies);
    }

    /**
     * @param pid      a process as the host sees it
     * @param procRoot the host's {@code /proc}
     * @return its cgroups; none when the process is gone or its file cannot be read
     */
    static ProcessCgroups of(long pid, Path procRoot) {
        List<String> lines;
        try {
            lines = Files.readAllLines(procRoot.resolve(Long.toString(pid)).resolve("cgroup"));
        } catch (IOException e) {
            return new ProcessCgroups(List.of());
        }
        List<Hierarchy> hierarchies = new ArrayList<>();
        for (String line : lines) {
            String[] parts = line.split(":", 3);
            if (parts.length != 3) {
                continue;
            }
            List<String> controllers = parts[1].isEmpty() ? List.of() : List.of(parts[1].split(","));
            String path = parts[2].startsWith("/") ? parts[2].substring(1) : parts[2];
            hierarchies.add(new Hierarchy(parts[0], controllers, path));
        }
        return new ProcessCgroups(hierarchies);
    }
}
