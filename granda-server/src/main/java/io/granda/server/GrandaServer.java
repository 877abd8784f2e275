package io.granda.server;

import io.granda.core.FunctionLimits;
import io.granda.core.Granda;
import io.granda.core.GrandaOptions;
import io.granda.http.GrandaHttp;
import io.granda.http.GrandaHttpConfig;
import io.granda.runtimes.Runtimes;
import io.granda.store.SqliteStore;
import io.granda.store.SqliteStoreConfig;
import io.helidon.webserver.WebServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The standalone server: the SQLite store in the data directory, the configured backend, and every HTTP service on
 * one port. Thread-safe; {@link #close()} is idempotent.
 */
public final class GrandaServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GrandaServer.class);
    /** Room above the payload limit for headers and framing, so the handler (not the socket) answers 413. */
    private static final long PAYLOAD_SLACK = 64 * 1024;

    private final Granda granda;
    private final SqliteStore store;
    private final WebServer webServer;
    private final ReentrantLock closeLock = new ReentrantLock();
    private boolean closed;

    private GrandaServer(Granda granda, SqliteStore store, WebServer webServer) {
        this.granda = granda;
        this.store = store;
        this.webServer = webServer;
    }

    /**
     * Starts a server: opens (or creates) the store, connects the backend, removes containers a previous run of
     * this data directory left behind, and listens.
     *
     * @param config the configuration
     * @return the running server
     */
    public static GrandaServer start(ServerConfig config) {
        try {
            Files.createDirectories(config.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data directory " + config.dataDir(), e);
        }
        String ownerId = config.ownerId().map(id -> OwnerId.validate(id, "configuration"))
                .orElseGet(() -> OwnerId.loadOrCreate(config.dataDir()));
        Clock clock = Clock.systemUTC();
        SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(config.dataDir().resolve("granda.db")), clock);
        Granda granda;
        try {
            Map<String, String> backendSettings = new HashMap<>();
            config.dockerHost().ifPresent(h -> backendSettings.put("docker.host", h));
            // Hot instances' sockets live under the data directory, beside the store, not in a shared /tmp.
            backendSettings.put("docker.run-directory", config.dataDir().toAbsolutePath().resolve("run").toString());
            FunctionLimits limits = FunctionLimits.DEFAULTS.withMaxTimeout(Duration.ofSeconds(config.maxTimeoutSeconds()));
            GrandaOptions options = GrandaOptions.DEFAULTS.withLimits(limits)
                    .withMaxPayloadBytes(config.maxPayloadBytes())
                    .withShutdownGrace(config.shutdownGrace())
                    .withPool(config.pool())
                    .withBuild(config.build());
            granda = Granda.builder()
                    .backendName(config.backend())
                    .backendSettings(backendSettings)
                    .ownerId(ownerId)
                    .registry(store.functions())
                    .meteringStore(store.metering())
                    .clock(clock)
                    .options(options)
                    .runtimes(Runtimes.withBaseImages(config.runtimeImages()))
                    .build();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        GrandaHttpConfig httpConfig = GrandaHttpConfig.DEFAULTS.withPublicUrl(config.publicUrl().orElse(null));
        WebServer webServer;
        try {
            webServer = WebServer.builder()
                    .host(config.host())
                    .port(config.port())
                    // We stop the server ourselves, after calls under way have finished.
                    .shutdownHook(false)
                    .maxPayloadSize(config.maxPayloadBytes() + PAYLOAD_SLACK)
                    .routing(r -> GrandaHttp.notFoundFallback(GrandaHttp.mount(r, granda, httpConfig)))
                    .build()
                    .start();
        } catch (RuntimeException e) {
            granda.close();
            store.close();
            throw e;
        }
        LOG.atInfo().addKeyValue("port", webServer.port()).addKeyValue("dataDir", config.dataDir().toAbsolutePath())
                .addKeyValue("backend", granda.backendName()).addKeyValue("owner", ownerId)
                .addKeyValue("functions", granda.functions().size()).log("Granda is serving");
        return new GrandaServer(granda, store, webServer);
    }

    /** @return the port the server listens on */
    public int port() {
        return webServer.port();
    }

    /** @return the platform behind the server */
    public Granda granda() {
        return granda;
    }

    /**
     * Shuts down: new calls are refused with 503 while calls under way finish or time out (bounded by the
     * configured grace), their records are stored, every container is removed, then the HTTP server stops.
     */
    @Override
    public void close() {
        closeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            closeLock.unlock();
        }
        // The web server keeps running meanwhile so that calls under way can still send their answers.
        granda.close();
        webServer.stop();
        store.close();
        LOG.info("Granda server stopped");
    }
}
