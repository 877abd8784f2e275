package io.granda.store;

import io.granda.core.StoreException;
import io.granda.core.spi.ComponentHealth;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Functions, invocation records, tenants and API keys in one SQLite file: Granda's default, durable store.
 * {@link #functions()} is the {@link io.granda.core.spi.FunctionRegistry}, {@link #metering()} the
 * {@link io.granda.core.spi.MeteringStore}, {@link #apiKeys()} the {@link io.granda.core.spi.ApiKeyStore}; all share
 * this store's connections and its one writer. Thread-safe; open one per database file per process and
 * share it.
 *
 * <p>(The two SPIs are views rather than interfaces of this class because both declare {@code find(String)} with
 * different return types, so no class can implement both.)
 *
 * <p><b>One writer.</b> Every write runs on a single connection, one transaction at a time, behind a
 * {@link ReentrantLock}: many threads writing at once queue in the JVM instead of contending for SQLite's file lock,
 * so "database is locked" cannot happen between them. Write transactions begin IMMEDIATE, taking the file's write
 * lock at once, so even another process cannot make one fail half-way. Reads run on a small pool of separate
 * read-only connections, in parallel with the writer (the file is in WAL mode), and see every committed write at
 * once.
 *
 * <p><b>Schema.</b> {@link #open} applies the versioned migrations the file lacks, in one transaction, and refuses a
 * file whose schema is newer than this build knows.
 *
 * <p><b>Precision.</b> Instants are stored as microseconds since the epoch: sub-microsecond digits are dropped, so a
 * record given nanoseconds comes back truncated to the microsecond; created and updated times are taken from the
 * clock already truncated, so what a create or update returns is exactly what later reads return.
 *
 * <p><b>Errors.</b> Every SQLite failure surfaces as {@link StoreException} naming the file and what was being done;
 * a failed write leaves nothing behind.
 */
public final class SqliteStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteStore.class);

    private final Path file;
    private final Clock clock;
    /**
     * Fair, so writers are served in arrival order: a thread appending in a loop cannot keep a registry update
     * waiting. Fairness costs little here, as each holder runs a whole transaction.
     */
    private final ReentrantLock writeLock = new ReentrantLock(true);
    /** Used only while holding {@link #writeLock}. */
    private final Handle writer;
    /**
     * Statements kept prepared on {@link #writer}, by their SQL: see {@link #keptStatement}. Used only while holding
     * {@link #writeLock}.
     */
    private final Map<String, PreparedStatement> keptStatements = new HashMap<>();
    private final ReaderPool readers;
    private final SqliteFunctionRegistry functions;
    private final SqliteMeteringStore metering;
    private final SqliteEventStore events;
    /** Whether every commit is synced anyway (synchronous=FULL): then {@link #writeSynced} need not switch. */
    private final boolean syncEveryCommit;
    private final SqliteApiKeyStore apiKeys;
    private volatile boolean closed;

    private SqliteStore(Path file, Clock clock, Handle writer, ReaderPool readers, boolean syncEveryCommit) {
        this.file = file;
        this.syncEveryCommit = syncEveryCommit;
        this.clock = clock;
        this.writer = writer;
        this.readers = readers;
        this.functions = new SqliteFunctionRegistry(this, clock);
        this.metering = new SqliteMeteringStore(this);
        this.events = new SqliteEventStore(this);
        this.apiKeys = new SqliteApiKeyStore(this);
    }

    /**
     * Opens (creating when missing) the database file and brings its schema up to date.
     *
     * @param config where the file is and how to open it; validated here
     * @param clock  the time source for created and updated times of functions
     * @return the open store; close it when done
     * @throws IllegalArgumentException when the config is invalid
     * @throws StoreException           when the file cannot be opened or migrated, is not a database, or was written
     *                                  by a newer Granda
     */
    public static SqliteStore open(SqliteStoreConfig config, Clock clock) {
        Objects.requireNonNull(config, "config").validate();
        Objects.requireNonNull(clock, "clock");
        Path file = config.path().toAbsolutePath().normalize();
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
        } catch (IOException e) {
            throw new StoreException("could not create the directory of SQLite database " + file + ": " + e, e);
        }
        String url = "jdbc:sqlite:" + file;
        Handle writer = null;
        try {
            writer = Jdbi.create(() -> writerConfig(config).createConnection(url)).open();
            List<Integer> applied = Migrations.migrate(writer, file, clock);
            ReaderPool readers = new ReaderPool(Jdbi.create(() -> readerConfig(config).createConnection(url)),
                    config.readerConnections());
            LOG.atInfo().addKeyValue("path", file)
                    .addKeyValue("schemaVersion", Migrations.latestVersion())
                    .addKeyValue("migrationsApplied", applied.size())
                    .addKeyValue("readerConnections", config.readerConnections())
                    .addKeyValue("busyTimeoutMs", config.busyTimeout().toMillis())
                    .addKeyValue("synchronous", config.syncEveryCommit() ? "FULL" : "NORMAL")
                    .addKeyValue("sqliteVersion", writer.createQuery("SELECT sqlite_version()")
                            .mapTo(String.class).one())
                    .log("opened SQLite store");
            return new SqliteStore(file, clock, writer, readers, config.syncEveryCommit());
        } catch (JdbiException e) {
            closeQuietly(writer);
            throw new StoreException("could not open SQLite database " + file + ": " + rootMessage(e), e);
        } catch (RuntimeException e) {
            closeQuietly(writer);
            throw e;
        }
    }

    private static SQLiteConfig writerConfig(SqliteStoreConfig config) {
        SQLiteConfig c = new SQLiteConfig();
        c.setBusyTimeout((int) config.busyTimeout().toMillis());
        // WAL: readers and the writer do not block each other; the setting is kept in the file.
        c.setJournalMode(SQLiteConfig.JournalMode.WAL);
        c.setSynchronous(config.syncEveryCommit() ? SQLiteConfig.SynchronousMode.FULL
                : SQLiteConfig.SynchronousMode.NORMAL);
        c.enforceForeignKeys(true);
        // BEGIN IMMEDIATE: take the write lock when the transaction starts, not at its first write. A deferred
        // transaction that read first and must then upgrade fails at once with SQLITE_BUSY when another process
        // wrote in between, whatever the busy timeout.
        c.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        return c;
    }

    private static SQLiteConfig readerConfig(SqliteStoreConfig config) {
        SQLiteConfig c = new SQLiteConfig();
        // Readers can still meet a lock briefly, e.g. while another connection recovers the WAL.
        c.setBusyTimeout((int) config.busyTimeout().toMillis());
        return c;
    }

    /**
     * @return the function registry kept in this file; thread-safe, valid until this store is closed
     */
    public SqliteFunctionRegistry functions() {
        return functions;
    }

    /**
     * @return the metering store kept in this file; thread-safe, valid until this store is closed
     */
    public SqliteMeteringStore metering() {
        return metering;
    }

    /** @return the asynchronous invocations (events) and async policies kept in this file */
    public SqliteEventStore events() {
        return events;
    }

    /**
     * @return the tenants and API keys (their hashes) kept in this file; thread-safe, valid until this store is
     *         closed
     */
    public SqliteApiKeyStore apiKeys() {
        return apiKeys;
    }

    /**
     * Checks that the store can write: rewrites its one-row probe table in a transaction of the single writer. Never
     * throws.
     *
     * @return up when the write committed, else down with SQLite's reason
     */
    public ComponentHealth health() {
        try {
            long now = EpochMicros.of(clock.instant());
            write("check health", h -> h.execute("INSERT INTO health_probe (id, checked_at_us) VALUES (1, ?) "
                    + "ON CONFLICT (id) DO UPDATE SET checked_at_us = excluded.checked_at_us", now));
            return new ComponentHealth(true, "SQLite " + file + " is writable");
        } catch (RuntimeException e) {
            return new ComponentHealth(false, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** @return the database file */
    public Path path() {
        return file;
    }

    // ---- lifecycle ----

    /**
     * Closes every connection. Waits for a write in progress; reads in progress finish on their connection, which
     * is closed when they return it. Idempotent.
     */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            readers.close();
            closeKeptStatements();
            try {
                // SQLite's advice for long-lived connections: refresh the planner's statistics when closing.
                writer.execute("PRAGMA optimize");
            } catch (JdbiException e) {
                LOG.atWarn().setCause(e).addKeyValue("path", file).log("PRAGMA optimize failed at close");
            }
            closeQuietly(writer);
            LOG.atInfo().addKeyValue("path", file).log("closed SQLite store");
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "SqliteStore[" + file + "]";
    }

    /**
     * As {@link #write}, but the commit is synced to the disk before this returns ({@code synchronous=FULL} for this
     * transaction), so what it wrote survives a power loss as well as a crash of the process. For writes a caller
     * was promised would last, such as accepted events; others stay on the cheaper NORMAL setting, under which a
     * commit survives a crash of the process but the last ones may be lost with the machine.
     */
    <T> T writeSynced(String action, HandleCallback<T, SQLException> work) {
        if (syncEveryCommit) {
            return write(action, work);
        }
        writeLock.lock();
        try {
            ensureOpen();
            // Outside the transaction: SQLite does not change the setting inside one.
            writer.execute("PRAGMA synchronous = FULL");
            try {
                return writer.inTransaction(work);
            } finally {
                writer.execute("PRAGMA synchronous = NORMAL");
            }
        } catch (JdbiException | SQLException e) {
            throw failure(action, e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Runs {@code work} in one IMMEDIATE transaction on the single writer connection, after every write queued
     * before it.
     */
    <T> T write(String action, HandleCallback<T, SQLException> work) {
        writeLock.lock();
        try {
            ensureOpen();
            // inTransaction rolls back on any exception, ours (e.g. RevisionConflictException) or SQLite's.
            return writer.inTransaction(work);
        } catch (JdbiException | SQLException e) {
            throw failure(action, e);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * A statement prepared on the writer connection once and kept until the store closes, for the statements every
     * append runs: SQLite takes about 1.7 us per row to prepare a multi-row INSERT, half of what running it costs.
     * For use inside {@link #write} only, and only within it: the caller must not close the statement; the driver
     * resets it after each execution.
     *
     * @param sql one statement; a few distinct ones only, as each is kept
     */
    PreparedStatement keptStatement(String sql) throws SQLException {
        if (!writeLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("kept statements are for use inside write()");
        }
        PreparedStatement ps = keptStatements.get(sql);
        if (ps == null) {
            ps = writer.getConnection().prepareStatement(sql);
            keptStatements.put(sql, ps);
        }
        return ps;
    }

    private void closeKeptStatements() {
        for (PreparedStatement ps : keptStatements.values()) {
            try {
                ps.close();
            } catch (SQLException e) {
                LOG.atWarn().setCause(e).addKeyValue("path", file).log("could not close a kept statement");
            }
        }
        keptStatements.clear();
    }

    /** Runs {@code work} on one of the reader connections, as soon as one is free. */
    <T> T read(String action, HandleCallback<T, RuntimeException> work) {
        ensureOpen();
        try {
            return readers.read(work);
        } catch (JdbiException e) {
            throw failure(action, e);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new StoreException("the SQLite store " + file + " is closed");
        }
    }

    private StoreException failure(String action, Exception e) {
        return new StoreException("SQLite store " + file + " could not " + action + ": " + rootMessage(e), e);
    }

    /** JDBI wraps the driver's exception; the innermost message says what SQLite objected to. */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    private static void closeQuietly(Handle h) {
        if (h == null) {
            return;
        }
        try {
            h.close();
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).log("could not close the database writer connection");
        }
    }
}
