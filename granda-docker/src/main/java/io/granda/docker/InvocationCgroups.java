package io.granda.docker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A cgroup of its own for each run-mode call, so that the call's CPU time can be read after its container is gone.
 *
 * <p>Why: the engine removes a container's cgroup as soon as its process has exited, before Granda hears of the exit,
 * and with it the container's CPU accounting. A cgroup's counters include its children's, also of children since
 * removed (cgroup v1's {@code cpuacct.usage} is charged up the hierarchy as the CPU is used; v2's {@code cpu.stat}
 * folds a removed child's usage into its parent). So each run-mode container is created with the cgroup parent
 * {@code /docker/granda-<owner>/<invocation id>} (under the engine's default {@code /docker}, so whatever the operator
 * set on that group still holds); after the exit the parent's counter is the call's CPU time, the work of every
 * process of the container, children included; then the parent is removed. Only with a local engine using the
 * {@code cgroupfs} driver (a {@code systemd} engine wants slices as parents) on a host whose cgroup mount Granda sees;
 * elsewhere a run-mode call's CPU time stays unknown, as before.
 *
 * <p>Thread-safe (stateless but for the paths it is given).
 */
final class InvocationCgroups {

    private static final Logger LOG = LoggerFactory.getLogger(InvocationCgroups.class);
    /** What an invocation id must look like to name a cgroup. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private final Path cgroupRoot;
    private final String ownerGroup;

    /**
     * @param cgroupRoot the host's cgroup mount, {@code /sys/fs/cgroup}
     * @param ownerId    the backend's owner id (already checked to be a safe name)
     */
    InvocationCgroups(Path cgroupRoot, String ownerId) {
        this.cgroupRoot = cgroupRoot;
        this.ownerGroup = "/docker/granda-" + ownerId;
    }

    /** @return the cgroup parent for this call's container, or null when its id cannot name a cgroup */
    String parentOf(String invocationId) {
        return NAME.matcher(invocationId).matches() ? ownerGroup + "/" + invocationId : null;
    }

    /**
     * The CPU time every process of the call's container used, read once they have all exited.
     *
     * @param parent what {@link #parentOf} gave
     * @return microseconds, or -1 when the group cannot be read
     */
    long cpuMicros(String parent) {
        for (String dir : CgroupCpuMeter.V1_CPUACCT_DIRS) {
            Path usage = cgroupRoot.resolve(dir).resolve(relative(parent)).resolve("cpuacct.usage");
            if (Files.exists(usage, LinkOption.NOFOLLOW_LINKS)) {
                return read(usage, false);
            }
        }
        for (Path base : List.of(cgroupRoot, cgroupRoot.resolve("unified"))) {
            Path stat = base.resolve(relative(parent)).resolve("cpu.stat");
            if (Files.exists(stat, LinkOption.NOFOLLOW_LINKS)) {
                return read(stat, true);
            }
        }
        return -1;
    }

    /**
     * Removes the call's group from every hierarchy, once its container is gone (a group with a child left cannot be
     * removed: it stays for {@link #removeLeftovers()}). Never throws.
     */
    void remove(String parent) {
        for (Path hierarchy : hierarchies()) {
            removeQuietly(hierarchy.resolve(relative(parent)));
        }
    }

    /**
     * Removes this owner's call groups that are left over (their containers gone), e.g. after a crash. Groups that
     * still hold a container cannot be removed and stay. Never throws.
     *
     * @return how many groups were removed, counted once across hierarchies
     */
    int removeLeftovers() {
        Set<String> names = new HashSet<>();
        for (Path hierarchy : hierarchies()) {
            Path owner = hierarchy.resolve(relative(ownerGroup));
            if (!Files.isDirectory(owner, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (DirectoryStream<Path> groups = Files.newDirectoryStream(owner, Files::isDirectory)) {
                for (Path group : groups) {
                    if (removeQuietly(group)) {
                        names.add(group.getFileName().toString());
                    }
                }
            } catch (IOException e) {
                LOG.atDebug().addKeyValue("group", owner).addKeyValue("reason", e.toString())
                        .log("cannot list call groups");
            }
        }
        return names.size();
    }

    /** Removes this owner's group of call groups when it is empty (at close). Never throws. */
    void removeOwnerGroupIfEmpty() {
        for (Path hierarchy : hierarchies()) {
            removeQuietly(hierarchy.resolve(relative(ownerGroup)));
        }
    }

    /** The mounted hierarchies: each v1 controller's directory, or the v2 mount itself. */
    private List<Path> hierarchies() {
        List<Path> found = new ArrayList<>();
        if (Files.exists(cgroupRoot.resolve("cgroup.controllers"))) {
            found.add(cgroupRoot);
            return found;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(cgroupRoot,
                p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
            dirs.forEach(found::add);
        } catch (IOException e) {
            LOG.atDebug().addKeyValue("root", cgroupRoot).addKeyValue("reason", e.toString())
                    .log("cannot list cgroup hierarchies");
        }
        return found;
    }

    private static String relative(String group) {
        return group.startsWith("/") ? group.substring(1) : group;
    }

    /** rmdir, the only way to remove a cgroup (its files are not files). */
    private static boolean removeQuietly(Path group) {
        try {
            Files.delete(group);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (DirectoryNotEmptyException e) {
            return false;
        } catch (IOException e) {
            // EBUSY: a container is still in it (removed later), or someone else's process.
            LOG.atTrace().addKeyValue("group", group).addKeyValue("reason", e.toString()).log("group not removed");
            return false;
        }
    }

    private static long read(Path file, boolean v2) {
        try {
            String text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
            return v2 ? CgroupCpuMeter.parseV2(text) : CgroupCpuMeter.parseV1(text);
        } catch (IOException | RuntimeException e) {
            LOG.atDebug().addKeyValue("file", file).addKeyValue("reason", e.toString()).log("cannot read call CPU");
            return -1;
        }
    }
}
