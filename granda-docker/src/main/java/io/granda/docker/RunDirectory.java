package io.granda.docker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One owner's run directory: the parent of the private directories of its hot instances, each bind-mounted into its
 * container at {@code /granda}, where the instance creates its socket.
 *
 * <p>The run directory is {@code 0700}, owned by this process's user and marked as Granda's by a file
 * ({@value #MARKER}) holding the owner id; only then does this class delete anything in it, so a run directory
 * configured by mistake as an existing directory ({@code /tmp}, a home directory) is refused instead of emptied.
 * Instance directories belong to the container's user with mode {@code 0700} when its uid is known and this process
 * may give them away (it runs as root); else they are {@code 0777}: a container whose user is not root must be able
 * to create its socket there, and the run directory's {@code 0700} already keeps other users of the host out.
 *
 * <p>Deleting never follows symbolic links (a container may plant one in its directory). Thread-safe.
 */
final class RunDirectory {

    /** The file that marks a directory as an owner's run directory; holds the owner id. */
    static final String MARKER = ".granda-run-directory";
    /**
     * The {@code /etc/hosts} given to containers that have no network (see {@link #hostsFile()}). Its name starts with
     * a dot, so no instance directory can take it.
     */
    static final String HOSTS = ".hosts";
    /**
     * What the engine itself writes to {@code /etc/hosts} for network mode {@code none}: names for the loopback
     * addresses, nothing else.
     */
    static final String HOSTS_CONTENT = """
            127.0.0.1	localhost
            ::1	localhost ip6-localhost ip6-loopback
            fe00::0	ip6-localnet
            ff00::0	ip6-mcastprefix
            ff02::1	ip6-allnodes
            ff02::2	ip6-allrouters
            """;
    private static final Set<String> OWN_FILES = Set.of(MARKER, HOSTS);
    private static final Set<PosixFilePermission> READABLE_BY_ALL = PosixFilePermissions.fromString("rw-r--r--");

    private static final Logger LOG = LoggerFactory.getLogger(RunDirectory.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> EVERYONE = PosixFilePermissions.fromString("rwxrwxrwx");

    private final Path root;
    private final String ownerId;
    private final ReentrantLock lock = new ReentrantLock();
    /** Set once the root is known to exist and be ours; cleared when it is found missing (another backend closed). */
    private volatile boolean checked;

    RunDirectory(Path root, String ownerId) {
        this.root = root;
        this.ownerId = ownerId;
    }

    /** @return the run directory */
    Path root() {
        return root;
    }

    /** @return where the directory of this instance is (whether or not it exists) */
    Path instanceDirectory(String instanceId) {
        return root.resolve(instanceId);
    }

    /**
     * The hosts file for containers without a network, first creating the run directory if needed; written once,
     * and again if someone removed it. Containers mount it read-only, so none can change what another sees.
     *
     * @return the file, {@code 0644}, holding {@link #HOSTS_CONTENT}
     * @throws IOException when the run directory is not usable or the file cannot be written
     */
    Path hostsFile() throws IOException {
        ensureRoot();
        try {
            return writeHostsFileIfMissing();
        } catch (NoSuchFileException e) {
            // Another backend of the same owner closed and removed the run directory meanwhile: make it again.
            checked = false;
            ensureRoot();
            return writeHostsFileIfMissing();
        }
    }

    private Path writeHostsFileIfMissing() throws IOException {
        Path file = root.resolve(HOSTS);
        if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return file;
        }
        lock.lock();
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                // Written aside and moved in: a container starting meanwhile never mounts a half-written file.
                Path partial = root.resolve(HOSTS + ".partial");
                Files.writeString(partial, HOSTS_CONTENT);
                Files.setPosixFilePermissions(partial, READABLE_BY_ALL);
                Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return file;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Creates the instance's private directory, {@code 0777}, first creating the run directory if needed. A leftover
     * directory of the same name is replaced.
     *
     * @return the new, empty directory
     * @throws IOException when the run directory is not usable (the message says why) or the directory cannot be made
     */
    Path createInstanceDirectory(String instanceId) throws IOException {
        return createInstanceDirectory(instanceId, -1, -1);
    }

    /**
     * Creates the instance's private directory, first creating the run directory if needed. A leftover directory of
     * the same name is replaced. When {@code uid} is given and this process may hand the directory to it (it runs as
     * root, or as that uid), the directory is {@code 0700} owned by {@code uid:gid}, the container's user; else it
     * is {@code 0777}, and the run directory's {@code 0700} keeps the host's other users out.
     *
     * @param uid the container's numeric uid, or -1 when unknown (the image's own user, or a name)
     * @param gid the container's numeric gid, or -1 for the uid
     * @return the new, empty directory
     * @throws IOException when the run directory is not usable (the message says why) or the directory cannot be made
     */
    Path createInstanceDirectory(String instanceId, int uid, int gid) throws IOException {
        ensureRoot();
        Path dir = instanceDirectory(instanceId);
        try {
            Files.createDirectory(dir);
        } catch (NoSuchFileException e) {
            // Another backend of the same owner closed and removed the run directory meanwhile: make it again.
            checked = false;
            ensureRoot();
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            deleteTree(dir);
            Files.createDirectory(dir);
        }
        // Set after creation: the mode given to mkdir is cut by the process's umask.
        if (uid >= 0 && giveTo(dir, uid, gid)) {
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        } else {
            Files.setPosixFilePermissions(dir, EVERYONE);
        }
        return dir;
    }

    private static boolean giveTo(Path dir, int uid, int gid) {
        try {
            Files.setAttribute(dir, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(dir, "unix:gid", gid >= 0 ? gid : uid, LinkOption.NOFOLLOW_LINKS);
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // Not root: an unprivileged process cannot give a directory away.
            LOG.atDebug().addKeyValue("directory", dir).addKeyValue("uid", uid).addKeyValue("reason", e.toString())
                    .log("cannot give the instance directory to the container's user; making it 0777");
            return false;
        }
    }

    /**
     * Deletes an instance's directory and all in it. Never throws.
     *
     * @return true when it is gone (or never existed)
     */
    boolean deleteInstanceDirectory(String instanceId) {
        Path dir = instanceDirectory(instanceId);
        try {
            deleteTree(dir);
            return true;
        } catch (IOException e) {
            LOG.atWarn().addKeyValue("directory", dir).addKeyValue("reason", e.toString())
                    .log("could not delete an instance directory; it will be reaped later");
            return false;
        }
    }

    /**
     * Deletes every instance directory left in the run directory (everything but the marker and the hosts file). Does
     * nothing when the
     * run directory does not exist or is not marked as this owner's.
     *
     * @return how many entries were deleted
     * @throws IOException when the run directory cannot be read
     */
    int deleteLeftovers() throws IOException {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS) || !isOurs()) {
            return 0;
        }
        int deleted = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                if (OWN_FILES.contains(entry.getFileName().toString())) {
                    continue;
                }
                try {
                    deleteTree(entry);
                    deleted++;
                } catch (IOException e) {
                    LOG.atWarn().addKeyValue("directory", entry).addKeyValue("reason", e.toString())
                            .log("could not delete a leftover instance directory");
                }
            }
        }
        return deleted;
    }

    /** Deletes the run directory when nothing but its own files (marker, hosts file) is left in it. Never throws. */
    void deleteIfEmpty() {
        lock.lock();
        try {
            if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS) || !isOurs()) {
                return;
            }
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
                for (Path entry : entries) {
                    if (!OWN_FILES.contains(entry.getFileName().toString())) {
                        return;
                    }
                }
            }
            Files.deleteIfExists(root.resolve(HOSTS));
            Files.deleteIfExists(root.resolve(MARKER));
            try {
                Files.deleteIfExists(root);
            } catch (DirectoryNotEmptyException e) {
                // Another backend of this owner made an instance directory meanwhile: the directory stays ours.
                Files.writeString(root.resolve(MARKER), ownerId + "\n");
                return;
            }
            checked = false;
        } catch (IOException e) {
            LOG.atDebug().addKeyValue("directory", root).addKeyValue("reason", e.toString())
                    .log("run directory not deleted");
        } finally {
            lock.unlock();
        }
    }

    private void ensureRoot() throws IOException {
        if (checked) {
            return;
        }
        lock.lock();
        try {
            if (checked) {
                return;
            }
            Path parent = root.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            boolean created;
            try {
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                created = true;
            } catch (FileAlreadyExistsException e) {
                created = false;
            }
            BasicFileAttributes attributes = Files.readAttributes(root, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isDirectory()) {
                throw new IOException("run directory " + root + " is not a directory"
                        + (attributes.isSymbolicLink() ? " but a symbolic link" : ""));
            }
            checkOwnedByThisUser();
            Path marker = root.resolve(MARKER);
            if (created || !Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
                if (!created && !isEmpty()) {
                    throw new IOException("run directory " + root + " exists, is not empty and is not a Granda run"
                            + " directory (it has no " + MARKER + "); configure a new or empty directory");
                }
                Files.writeString(marker, ownerId + "\n");
            } else if (!isOurs()) {
                throw new IOException("run directory " + root + " belongs to another owner ("
                        + Files.readString(marker).strip() + "), not to '" + ownerId + "'");
            }
            Files.setPosixFilePermissions(root, OWNER_ONLY);
            checked = true;
        } finally {
            lock.unlock();
        }
    }

    private boolean isOurs() throws IOException {
        Path marker = root.resolve(MARKER);
        if (!Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        return Files.readString(marker).strip().equals(ownerId);
    }

    private boolean isEmpty() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            return !entries.iterator().hasNext();
        }
    }

    /**
     * Refuses a run directory someone else owns: they could swap an instance directory for a link and have the engine
     * mount any host directory into a container. The owner of {@code /proc/self} is this process's effective user.
     */
    private void checkOwnedByThisUser() throws IOException {
        Object self;
        try {
            self = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return; // Not Linux: nothing to compare with; the 0700 that follows still fails for a stranger's directory.
        }
        Object owner = Files.getAttribute(root, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (!self.equals(owner)) {
            throw new IOException("run directory " + root + " is owned by uid " + owner + ", not by this process's"
                    + " uid " + self);
        }
    }

    /** Deletes a file or a directory tree, never following links; a missing path is fine. */
    static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        // walkFileTree does not follow links unless asked: a link is deleted, not what it points to.
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
