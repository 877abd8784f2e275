package io.granda.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The bench's scratch directories: short paths under {@code /tmp} (a unix socket path must fit in 107 bytes, and
 * Granda's sockets live at {@code <data-dir>/run/<26-character id>/fn.sock}), deleted after use. Stateless.
 */
final class ScratchDirectory {

    private ScratchDirectory() {
    }

    /**
     * @return a new empty directory {@code <base>/<prefix><random>}, the base being {@code /tmp} unless the system
     *         property {@code granda.bench.scratch} names another (e.g. {@code /dev/shm}, to see what the disk costs)
     */
    static Path create(String prefix) {
        Path base = Path.of(System.getProperty("granda.bench.scratch", "/tmp"));
        try {
            return Files.createTempDirectory(base, prefix).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a scratch directory under " + base, e);
        }
    }

    /** Deletes a directory tree without following links; never throws (a leftover in /tmp is harmless). */
    static void deleteQuietly(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // Best effort.
        }
    }
}
