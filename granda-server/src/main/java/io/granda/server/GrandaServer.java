package io.granda.server;

import io.granda.core.FunctionLimits;
import io.granda.core.Granda;
import io.granda.core.async.GrandaEvents;
import io.granda.core.GrandaOptions;
import io.granda.http.GrandaHttp;
import io.granda.http.GrandaHttpConfig;
import io.granda.http.GrandaMetrics;
import io.granda.runtimes.Runtimes;
import io.granda.store.SqliteStore;
import io.granda.store.SqliteStoreConfig;
import io.helidon.webserver.WebServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
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
    /** Null when asynchronous invocations are off. */
    private final GrandaEvents events;
    private final SqliteStore store;
    private final WebServer webServer;
    /** Granda's and the JVM's meters, served at {@code GET /metrics}. */
    private final GrandaMetrics metrics;
    private final PrometheusMeterRegistry meterRegistry;
    private final ReentrantLock closeLock = new ReentrantLock();
    private boolean closed;

    private GrandaServer(Granda granda, GrandaEvents events, SqliteStore store, WebServer webServer,
                         GrandaMetrics metrics,
                         PrometheusMeterRegistry meterRegistry) {
        this.granda = granda;
        this.events = events;
        this.store = store;
        this.webServer = webServer;
        this.metrics = metrics;
        this.meterRegistry = meterRegistry;
    }

    /**
     * Starts a server: opens (or creates) the store, connects the backend, removes containers a previous run of
     * this data directory left behind, and listens.
     *
     * @param config the configuration
     * @return the running server
     */
    public static GrandaServer start(ServerConfig config) {
        return start(config, UnaryOperator.identity());
    }

    /**
     * Starts a server whose platform is adjusted in code before it is built: e.g. another metering store, another
     * clock, more listeners. For embedding the standalone server and for benchmarks.
     *
     * @param config    the configuration
     * @param customize applied to the platform's builder after the configuration, last
     * @return the running server
     */
    public static GrandaServer start(ServerConfig config, UnaryOperator<Granda.Builder> customize) {
        try {
            Files.createDirectories(config.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data directory " + config.dataDir(), e);
        }
        String ownerId = config.ownerId().map(id -> OwnerId.validate(id, "configuration"))
                .orElseGet(() -> OwnerId.loadOrCreate(config.dataDir()));
        Clock clock = Clock.systemUTC();
        SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(config.dataDir().resolve("granda.db")), clock);
        PrometheusMeterRegistry meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        GrandaMetrics metrics = new GrandaMetrics();
        metrics.bindTo(meterRegistry);
        Granda granda;
        try {
            Map<String, String> backendSettings = new HashMap<>(config.dockerSettings());
            config.dockerHost().ifPresent(h -> backendSettings.put("docker.host", h));
            // Hot instances' sockets live under the data directory, beside the store, not in a shared /tmp.
            backendSettings.put("docker.run-directory", config.dataDir().toAbsolutePath().resolve("run").toString());
            FunctionLimits limits = FunctionLimits.DEFAULTS.withMaxTimeout(Duration.ofSeconds(config.maxTimeoutSeconds()));
            GrandaOptions options = GrandaOptions.DEFAULTS.withLimits(limits)
                    .withMaxPayloadBytes(config.maxPayloadBytes())
                    .withShutdownGrace(config.shutdownGrace())
                    .withPool(config.pool())
                    .withBuild(config.build())
                    .withMetering(config.metering());
            Granda.Builder builder = Granda.builder()
                    .backendName(config.backend())
                    .backendSettings(backendSettings)
                    .ownerId(ownerId)
                    .registry(store.functions())
                    .meteringStore(store.metering())
                    .apiKeyStore(store.apiKeys())
                    .authFailureLimit(config.authFailureLimit())
                    .clock(clock)
                    .options(options)
                    .runtimes(Runtimes.withBaseImages(config.runtimeImages()));
            if (config.metrics()) {
                builder.listener(metrics);
            }
            granda = customize.apply(builder).build();
        } catch (RuntimeException e) {
            metrics.close();
            store.close();
            throw e;
        }
        if (config.metrics()) {
            metrics.watch(granda);
        }
        GrandaEvents events;
        try {
            if (config.requireApiKey() || config.adminKey().isPresent()) {
                AdminKeyBootstrap.run(granda.apiKeys(), config.adminKey(), System.out, config.publicUrl()
                        .orElse("http://localhost:" + (config.port() == 0 ? "<port>" : config.port())));
            }
            events = config.async().map(o -> {
                GrandaEvents.Builder b = GrandaEvents.builder(granda, store.events()).options(o)
                        .callbackBody(GrandaHttp.eventCallbackBody());
                if (config.metrics()) {
                    b.listener(metrics);
                }
                return b.start();
            }).orElse(null);
            if (events != null && config.metrics()) {
                metrics.watch(events);
            }
        } catch (RuntimeException e) {
            granda.close();
            metrics.close();
            store.close();
            throw e;
        }
        GrandaHttpConfig httpConfig = GrandaHttpConfig.DEFAULTS.withPublicUrl(config.publicUrl().orElse(null))
                .withRequireApiKey(config.requireApiKey());
        if (!config.requireApiKey()) {
            LOG.atWarn().log("API keys are not required (--require-api-key false): anyone who reaches this server "
                    + "manages every function");
        }
        WebServer webServer;
        try {
            webServer = WebServer.builder()
                    .host(config.host())
                    .port(config.port())
                    // We stop the server ourselves, after calls under way have finished.
                    .shutdownHook(false)
                    // JSON errors for what Helidon refuses before routing: 414, 431, a request line it cannot parse.
                    .directHandlers(GrandaHttp.directHandlers(config.maxRequestLineBytes(), config.maxHeaderBytes()))
                    .addProtocol(GrandaHttp.http1(config.maxRequestLineBytes(), config.maxHeaderBytes()))
                    // The largest body any handler takes: a call's payload, or a source upload (archive + spec).
                    // Each handler enforces its own limit with a JSON 413; this only stops what no handler would take.
                    .maxPayloadSize(Math.max((long) config.maxPayloadBytes(),
                            (long) granda.options().build().sourceLimits().maxUploadBytes()
                                    + httpConfig.maxJsonBytes()) + PAYLOAD_SLACK)
                    .routing(r -> GrandaHttp.notFoundFallback(config.metrics()
                            ? GrandaHttp.mountMetrics(GrandaHttp.mount(r, granda, events, httpConfig), meterRegistry,
                                    config.metricsKey())
                            : GrandaHttp.mount(r, granda, events, httpConfig)))
                    .build()
                    .start();
        } catch (RuntimeException e) {
            if (events != null) {
                events.close();
            }
            granda.close();
            metrics.close();
            store.close();
            throw e;
        }
        LOG.atInfo().addKeyValue("port", webServer.port()).addKeyValue("dataDir", config.dataDir().toAbsolutePath())
                .addKeyValue("backend", granda.backendName()).addKeyValue("owner", ownerId)
                .addKeyValue("functions", granda.functions().size())
                .addKeyValue("apiKeysRequired", config.requireApiKey()).log("Granda is serving");
        return new GrandaServer(granda, events, store, webServer, metrics, meterRegistry);
    }

    /** @return the port the server listens on */
    public int port() {
        return webServer.port();
    }

    /** @return the event engine (asynchronous invocations), empty when they are off */
    public java.util.Optional<GrandaEvents> events() {
        return java.util.Optional.ofNullable(events);
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
        // The web server keeps running meanwhile so that calls under way can still send their answers. Events first:
        // their attempts under way are calls of the platform, which must still be open to finish them.
        if (events != null) {
            events.close();
        }
        granda.close();
        webServer.stop();
        metrics.close();
        meterRegistry.close();
        store.close();
        LOG.info("Granda server stopped");
    }
}
