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

    /** @return a new empty directory {@code /tmp/<prefix><random>} */
    static Path create(String prefix) {
        try {
            return Files.createTempDirectory(Path.of("/tmp"), prefix).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a scratch directory under /tmp", e);
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
