package io.granda.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a {@link SqliteStore} opens its database file: an immutable value, thread-safe.
 *
 * <p>Start from {@link #defaults(Path)} and change what you need with the {@code with...} methods;
 * {@link SqliteStore#open(SqliteStoreConfig, java.time.Clock)} calls {@link #validate()}.
 *
 * @param path              the database file; created, with its parent directories, when missing. Default:
 *                          {@value #DEFAULT_FILE_NAME} in the working directory. SQLite also keeps
 *                          {@code <path>-wal} and {@code <path>-shm} beside it.
 * @param busyTimeout       how long a statement waits for a lock held by another connection (another process, or a
 *                          checkpoint) before failing. Default 5 s. Within one store writes never wait on each other
 *                          in SQLite, since they queue on the store's single writer connection.
 * @param readerConnections connections kept open for reads, which run in parallel with each other and with the
 *                          writer. Default 4, at most {@value #MAX_READER_CONNECTIONS}.
 * @param syncEveryCommit   {@code false} (default): {@code synchronous=NORMAL}, the usual WAL setting. A commit is
 *                          atomic and the file never corrupts, but the last commits before a power cut or kernel
 *                          crash may be lost (a process crash loses nothing). {@code true}: {@code synchronous=FULL},
 *                          every commit is fsynced, at a cost in write throughput.
 */
public record SqliteStoreConfig(Path path, Duration busyTimeout, int readerConnections, boolean syncEveryCommit) {

    /** File name used by {@link #defaults()}. */
    public static final String DEFAULT_FILE_NAME = "granda.db";
    /** Default {@link #busyTimeout()}. */
    public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(5);
    /** Default {@link #readerConnections()}. */
    public static final int DEFAULT_READER_CONNECTIONS = 4;
    /** Largest {@link #readerConnections()} accepted; more only costs memory, SQLite gains nothing past the cores. */
    public static final int MAX_READER_CONNECTIONS = 64;

    /** @return the defaults, with the database at {@value #DEFAULT_FILE_NAME} in the working directory */
    public static SqliteStoreConfig defaults() {
        return defaults(Path.of(DEFAULT_FILE_NAME));
    }

    /**
     * @param path the database file
     * @return the defaults, with the database at {@code path}
     */
    public static SqliteStoreConfig defaults(Path path) {
        return new SqliteStoreConfig(path, DEFAULT_BUSY_TIMEOUT, DEFAULT_READER_CONNECTIONS, false);
    }

    /** @return a copy with another database file */
    public SqliteStoreConfig withPath(Path path) {
        return new SqliteStoreConfig(path, busyTimeout, readerConnections, syncEveryCommit);
    }

    /** @return a copy with another busy timeout */
    public SqliteStoreConfig withBusyTimeout(Duration busyTimeout) {
        return new SqliteStoreConfig(path, busyTimeout, readerConnections, syncEveryCommit);
    }

    /** @return a copy with another number of reader connections */
    public SqliteStoreConfig withReaderConnections(int readerConnections) {
        return new SqliteStoreConfig(path, busyTimeout, readerConnections, syncEveryCommit);
    }

    /** @return a copy that fsyncs every commit, or not */
    public SqliteStoreConfig withSyncEveryCommit(boolean syncEveryCommit) {
        return new SqliteStoreConfig(path, busyTimeout, readerConnections, syncEveryCommit);
    }

    /**
     * Checks every setting.
     *
     * @return this config, for chaining
     * @throws IllegalArgumentException naming the first bad setting and what is allowed
     */
    public SqliteStoreConfig validate() {
        if (path == null || path.toString().isBlank()) {
            throw new IllegalArgumentException("path is required: the SQLite database file");
        }
        if (path.toString().equals(":memory:") || path.toString().startsWith("file:")) {
            // Each connection would get its own private database, and the writer's data would be invisible
            // to the readers.
            throw new IllegalArgumentException("path must be a file, not '" + path + "'; use "
                    + "io.granda.core.memory for a store in memory");
        }
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException("path " + path + " is a directory; give the database file inside it, "
                    + "e.g. " + path.resolve(DEFAULT_FILE_NAME));
        }
        if (busyTimeout == null || busyTimeout.isNegative() || busyTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("busyTimeout must be between 0 and " + Integer.MAX_VALUE
                    + " ms, was " + busyTimeout);
        }
        if (readerConnections < 1 || readerConnections > MAX_READER_CONNECTIONS) {
            throw new IllegalArgumentException("readerConnections must be between 1 and " + MAX_READER_CONNECTIONS
                    + ", was " + readerConnections);
        }
        return this;
    }
}
