package io.granda.server;

import io.granda.core.BuildOptions;
import io.granda.core.MeteringOptions;
import io.granda.core.PoolOptions;
import io.granda.core.Prices;
import io.granda.core.access.ApiKeyTokens;
import io.granda.core.access.AuthFailureLimiter;
import io.granda.core.async.AsyncOptions;
import io.granda.http.GrandaHttp;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Configuration of the standalone server: an immutable value read from command-line flags and the environment
 * (flags win). Every option has a flag {@code --name} and a variable {@code GRANDA_NAME}; see docs/configuration.md.
 *
 * @param port              HTTP port (default 8881, the original Granda's)
 * @param host              address to listen on (default 0.0.0.0)
 * @param dataDir           where the SQLite store and the owner id live (default ./data)
 * @param publicUrl         base URL users reach the server at, for function URLs; empty = from the Host header
 * @param backend           runtime backend name (default docker)
 * @param dockerHost        Docker engine address; empty = DOCKER_HOST or the local socket
 * @param ownerId           label owner of every container; empty = generated once and kept in the data dir
 * @param maxPayloadBytes   largest call payload (default 6 MiB)
 * @param maxTimeoutSeconds largest timeout a function may ask for (default 900)
 * @param shutdownGrace     how long shutdown waits for calls under way (default 30 s)
 * @param pool              the warm pool of hot functions: start timeout, total maximum, queue
 * @param build             builds of functions given as source: parallelism, timeout, network
 * @param runtimeImages     base image candidates by runtime (or runtime.role), overriding the defaults
 * @param metering          prices of calls and GB-seconds, and how long invocation records and aggregates are kept
 * @param metrics           whether to keep Prometheus meters and serve them at {@code GET /metrics} (default true)
 * @param dockerSettings    further settings of the Docker backend ({@code docker.*}, e.g. {@code docker.pids-limit}),
 *                          from {@code --docker-settings name=value,...}; empty by default
 * @param async             asynchronous invocations (events): their limits, or empty when they are off
 * @param maxRequestLineBytes largest request line (method + URL) accepted; longer answers 414 (default 8 KiB)
 * @param maxHeaderBytes    largest header section accepted; larger answers 400 (default 16 KiB)
 * @param adminKey          an admin API key the operator chose ({@code gk_<id>_<secret>}), installed (hashed) at every
 *                          start; empty: one is generated at the first start and printed once
 * @param requireApiKey     whether management calls need an API key (default true)
 * @param metricsKey        a token {@code GET /metrics} then needs as {@code Authorization: Bearer}; empty for none
 * @param authFailureLimit  failed key checks one client address may have within 60 s before its requests with a key
 *                          get 429 (default 20, 0 to 1000; 0: no limit)
 */
public record ServerConfig(
        int port,
        String host,
        Path dataDir,
        Optional<String> publicUrl,
        String backend,
        Optional<String> dockerHost,
        Optional<String> ownerId,
        int maxPayloadBytes,
        int maxTimeoutSeconds,
        Duration shutdownGrace,
        PoolOptions pool,
        BuildOptions build,
        Map<String, List<String>> runtimeImages,
        MeteringOptions metering,
        boolean metrics,
        Map<String, String> dockerSettings,
        Optional<AsyncOptions> async,
        int maxRequestLineBytes,
        int maxHeaderBytes,
        Optional<String> adminKey,
        boolean requireApiKey,
        Optional<String> metricsKey,
        int authFailureLimit) {

    /** One configurable option: flag name, variable name, default, help. */
    record Option(String name, String defaultValue, String help) {
        String flag() {
            return "--" + name;
        }

        String env() {
            return "GRANDA_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
        }
    }

    static final List<Option> OPTIONS = List.of(
            new Option("port", "8881", "HTTP port"),
            new Option("host", "0.0.0.0", "address to listen on"),
            new Option("data-dir", "./data", "directory of the SQLite store and the owner id"),
            new Option("public-url", "", "base URL of function URLs, e.g. https://fn.example.com (default: from the Host header)"),
            new Option("backend", "docker", "runtime backend"),
            new Option("docker-host", "", "Docker engine address (default: $DOCKER_HOST, else unix:///var/run/docker.sock)"),
            new Option("owner-id", "", "label owner of this server's containers (default: generated once, kept in the data dir)"),
            new Option("max-payload-bytes", Integer.toString(6 * 1024 * 1024), "largest call payload in bytes"),
            new Option("max-request-line-bytes", Integer.toString(GrandaHttp.DEFAULT_MAX_REQUEST_LINE_BYTES),
                    "largest request line (method and URL) in bytes; longer answers 414"),
            new Option("max-header-bytes", Integer.toString(GrandaHttp.DEFAULT_MAX_HEADER_BYTES),
                    "largest header section of a request in bytes; larger answers 431"),
            new Option("max-timeout-seconds", "900", "largest timeout a function may ask for"),
            new Option("shutdown-grace-seconds", "30", "how long shutdown waits for calls under way"),
            new Option("start-timeout-seconds", "10", "longest a hot instance may take to become ready"),
            new Option("max-instances", "100", "most hot instances of all functions at once"),
            new Option("queue-capacity", "256", "calls of one hot function that may wait for an instance"),
            new Option("max-queue-wait-seconds", "10", "longest a call waits for a free hot instance"),
            new Option("max-concurrent-builds", "2", "builds of functions from source that may run at once"),
            new Option("build-timeout-seconds", "600", "longest one build may take"),
            new Option("build-network", "true", "whether builds may reach the network to install dependencies"),
            new Option("remove-unused-images", "true",
                    "whether images built for replaced revisions and deleted functions are removed"),
            new Option("unused-image-grace-minutes", "10", "how old an unused built image must be to be removed"),
            new Option("runtime-images", "", "base images by runtime, best first, e.g. "
                    + "'python=python:3.12-slim,granda-base/python:3.11-bookworm;go.run=debian:bookworm-slim' "
                    + "(default: the official image, then the local equivalent)"),
            new Option("price-per-million-requests", Prices.DEFAULTS.perMillionRequests().toPlainString(),
                    "price of one million calls, a decimal, for the usage API's costs"),
            new Option("price-per-gb-second", Prices.DEFAULTS.perGbSecond().toPlainString(),
                    "price of one GB-second (1024 MiB for one second of billed run time), a decimal"),
            new Option("currency", Prices.DEFAULTS.currency(), "ISO 4217 code of the prices' currency (a label only)"),
            new Option("metrics", "true", "keep Prometheus meters and serve them at GET /metrics"),
            new Option("record-retention-days", Long.toString(MeteringOptions.DEFAULTS.recordRetention().toDays()),
                    "days raw invocation records are kept (their per-minute usage aggregates stay)"),
            new Option("aggregate-retention-days",
                    Long.toString(MeteringOptions.DEFAULTS.aggregateRetention().toDays()),
                    "days per-minute usage aggregates are kept; at least record-retention-days"),
            new Option("async", "true", "accept asynchronous invocations (events), run them, and fire schedules"),
            new Option("async-max-concurrency", Integer.toString(AsyncOptions.DEFAULTS.maxConcurrentEvents()),
                    "most events running at once over all functions (each function has its own limit too)"),
            new Option("idempotency-window-hours", Long.toString(AsyncOptions.DEFAULTS.idempotencyWindow().toHours()),
                    "how long an event's Idempotency-Key stays taken"),
            new Option("event-retention-days", Long.toString(AsyncOptions.DEFAULTS.finishedRetention().toDays()),
                    "days succeeded and dead events are kept"),
            new Option("docker-settings", "", "settings of the Docker backend, comma-separated name=value, e.g. "
                    + "'pids-limit=256,cpus=2,user=' (see docs/configuration.md, \"Container hardening\")"),
            new Option("admin-key", "", "an admin API key you chose, gk_<id>_<secret>, e.g. "
                    + "gk_admin_$(openssl rand -hex 32) (default: one is generated at the first start and printed once)"),
            new Option("require-api-key", "true", "whether management calls need an API key (false: anyone is an admin)"),
            new Option("metrics-key", "", "a token GET /metrics then needs as 'Authorization: Bearer <token>' "
                    + "(default: /metrics is open; keep it inside your network)"),
            new Option("auth-failure-limit", Integer.toString(AuthFailureLimiter.DEFAULT_LIMIT),
                    "failed API key checks one address may have within 60 s before its requests with a key get 429 "
                            + "until the window lets them through (0 to " + AuthFailureLimiter.MAX_LIMIT
                            + "; 0: no limit)"));

    /** Longest retention accepted, a hundred years: longer would be forever in all but name. */
    static final int MAX_RETENTION_DAYS = 36_500;

    /** A flag or variable had a value that cannot be used; the message says which and why. */
    public static final class InvalidConfigException extends RuntimeException {
        InvalidConfigException(String message) {
            super(message);
        }
    }

    /**
     * @param args command-line arguments: {@code --name value} or {@code --name=value}
     * @param env  the environment
     * @return the configuration
     * @throws InvalidConfigException on an unknown flag or an invalid value
     */
    public static ServerConfig from(String[] args, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Option o : OPTIONS) {
            values.put(o.name(), env.getOrDefault(o.env(), o.defaultValue()));
        }
        // DOCKER_HOST is the Docker ecosystem's own variable; honour it like every Docker client does.
        if (values.get("docker-host").isEmpty() && env.containsKey("DOCKER_HOST")) {
            values.put("docker-host", env.get("DOCKER_HOST"));
        }
        List<String> rest = new ArrayList<>(List.of(args));
        while (!rest.isEmpty()) {
            String arg = rest.removeFirst();
            if (!arg.startsWith("--")) {
                throw new InvalidConfigException("unexpected argument '" + arg + "'; see --help");
            }
            String name = arg.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (rest.isEmpty()) {
                    throw new InvalidConfigException("--" + name + " needs a value");
                }
                value = rest.removeFirst();
            }
            if (!values.containsKey(name)) {
                throw new InvalidConfigException("unknown option --" + name + "; see --help");
            }
            values.put(name, value);
        }
        return new ServerConfig(
                intValue(values, "port", 0, 65535),
                nonEmpty(values, "host"),
                Path.of(nonEmpty(values, "data-dir")),
                optional(values, "public-url"),
                nonEmpty(values, "backend"),
                optional(values, "docker-host"),
                optional(values, "owner-id"),
                intValue(values, "max-payload-bytes", 1, Integer.MAX_VALUE),
                intValue(values, "max-timeout-seconds", 1, 86_400),
                Duration.ofSeconds(intValue(values, "shutdown-grace-seconds", 0, 3600)),
                new PoolOptions(intValue(values, "max-instances", 1, 100_000),
                        intValue(values, "queue-capacity", 1, 1_000_000),
                        Duration.ofSeconds(intValue(values, "max-queue-wait-seconds", 0, 3600)),
                        Duration.ofSeconds(intValue(values, "start-timeout-seconds", 1, 3600)),
                        PoolOptions.DEFAULTS.maintenancePeriod()),
                new BuildOptions(intValue(values, "max-concurrent-builds", 1, 64),
                        Duration.ofSeconds(intValue(values, "build-timeout-seconds", 10, 86_400)),
                        booleanValue(values, "build-network"), BuildOptions.DEFAULTS.sourceLimits(),
                        BuildOptions.DEFAULTS.recentBuilds(), booleanValue(values, "remove-unused-images"),
                        Duration.ofMinutes(intValue(values, "unused-image-grace-minutes", 0, 525_600))),
                runtimeImages(values.get("runtime-images")),
                metering(values),
                booleanValue(values, "metrics"),
                dockerSettings(values.get("docker-settings")),
                booleanValue(values, "async") ? Optional.of(AsyncOptions.DEFAULTS
                        .withMaxConcurrentEvents(intValue(values, "async-max-concurrency", 1, 10_000))
                        .withIdempotencyWindow(Duration.ofHours(intValue(values, "idempotency-window-hours", 0, 8760)))
                        .withFinishedRetention(Duration.ofDays(intValue(values, "event-retention-days", 0,
                                MAX_RETENTION_DAYS)))) : Optional.empty(),
                intValue(values, "max-request-line-bytes", 256, 1024 * 1024),
                intValue(values, "max-header-bytes", 1024, 1024 * 1024),
                adminKey(values.get("admin-key")),
                booleanValue(values, "require-api-key"),
                metricsKey(values.get("metrics-key")),
                intValue(values, "auth-failure-limit", 0, AuthFailureLimiter.MAX_LIMIT));
    }

    /** Never echoes the value: a key in a message ends up in logs and terminals. */
    static Optional<String> adminKey(String raw) {
        String v = raw.strip();
        if (v.isEmpty()) {
            return Optional.empty();
        }
        if (!ApiKeyTokens.isToken(v)) {
            throw new InvalidConfigException("admin-key must look like gk_<id>_<secret>: an id of 4 to 32 lowercase "
                    + "letters and digits and a secret of 32 to 128 letters and digits, e.g. "
                    + "gk_admin_$(openssl rand -hex 32) (the value given is not repeated here)");
        }
        return Optional.of(v);
    }

    /** Never echoes the value either. */
    static Optional<String> metricsKey(String raw) {
        String v = raw.strip();
        if (v.isEmpty()) {
            return Optional.empty();
        }
        if (v.length() < 16 || !v.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new InvalidConfigException("metrics-key must be at least 16 printable characters without spaces, "
                    + "e.g. $(openssl rand -hex 32) (the value given is not repeated here)");
        }
        return Optional.of(v);
    }

    /** Keys stay out of the text, so that printing a configuration by mistake leaks nothing. */
    @Override
    public String toString() {
        return "ServerConfig[port=" + port + ", host=" + host + ", dataDir=" + dataDir + ", publicUrl=" + publicUrl
                + ", backend=" + backend + ", dockerHost=" + dockerHost + ", ownerId=" + ownerId
                + ", maxPayloadBytes=" + maxPayloadBytes + ", maxTimeoutSeconds=" + maxTimeoutSeconds
                + ", shutdownGrace=" + shutdownGrace + ", pool=" + pool + ", build=" + build
                + ", runtimeImages=" + runtimeImages + ", metering=" + metering + ", metrics=" + metrics
                + ", dockerSettings=" + dockerSettings + ", adminKey=" + adminKey.map(k -> "<hidden>")
                + ", async=" + async + ", maxRequestLineBytes=" + maxRequestLineBytes + ", maxHeaderBytes="
                + maxHeaderBytes + ", requireApiKey=" + requireApiKey + ", metricsKey="
                + metricsKey.map(k -> "<hidden>") + ", authFailureLimit=" + authFailureLimit + "]";
    }

    /** Reads {@code name=value,...}; names get the {@code docker.} prefix when they lack it. */
    static Map<String, String> dockerSettings(String raw) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (raw == null || raw.isBlank()) {
            return Map.of();
        }
        for (String pair : raw.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new InvalidConfigException("docker-settings must be name=value pairs separated by commas, "
                        + "e.g. 'pids-limit=256,user=', was '" + raw + "'");
            }
            String name = pair.substring(0, eq).strip();
            settings.put(name.startsWith("docker.") ? name : "docker." + name, pair.substring(eq + 1).strip());
        }
        return Map.copyOf(settings);
    }

    /** Reads prices and retention; aggregates must outlive the records they were made from. */
    private static MeteringOptions metering(Map<String, String> values) {
        Prices prices = new Prices(decimalValue(values, "price-per-million-requests"),
                decimalValue(values, "price-per-gb-second"), currency(values.get("currency")));
        int recordDays = intValue(values, "record-retention-days", 1, MAX_RETENTION_DAYS);
        int aggregateDays = intValue(values, "aggregate-retention-days", 1, MAX_RETENTION_DAYS);
        if (aggregateDays < recordDays) {
            throw new InvalidConfigException("aggregate-retention-days (" + aggregateDays
                    + ") must be at least record-retention-days (" + recordDays + "): usage older than the records "
                    + "is answered from the aggregates");
        }
        return new MeteringOptions(Duration.ofDays(recordDays), Duration.ofDays(aggregateDays),
                MeteringOptions.DEFAULTS.purgeInterval(), prices);
    }

    private static BigDecimal decimalValue(Map<String, String> values, String name) {
        String v = values.get(name).trim();
        try {
            // Plain decimals only: an exponent (1E-5) is too easy to misread in a price.
            if (!v.matches("\\d{1,12}(\\.\\d{1,18})?")) {
                throw new NumberFormatException();
            }
            return new BigDecimal(v);
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(name + " must be a decimal number of at least 0 such as 0.20 (digits, "
                    + "optionally a point and up to 18 decimals), was '" + v + "'");
        }
    }

    private static String currency(String value) {
        String v = value.trim();
        if (!v.matches("[A-Z]{3}")) {
            throw new InvalidConfigException("currency must be an ISO 4217 code of three capital letters such as "
                    + "USD or EUR, was '" + v + "'");
        }
        return v;
    }

    /** @return the help text listing every option with its flag, variable and default */
    public static String help() {
        StringBuilder b = new StringBuilder("Usage: java -jar granda-server.jar [--option value]...\n\nOptions (flag / environment variable, default):\n");
        for (Option o : OPTIONS) {
            b.append(String.format("  %-29s %-34s %s%s%n", o.flag(), o.env(), o.help(),
                    o.defaultValue().isEmpty() ? "" : " [" + o.defaultValue() + "]"));
        }
        return b.toString();
    }

    private static int intValue(Map<String, String> values, String name, int min, int max) {
        String v = values.get(name).trim();
        try {
            int i = Integer.parseInt(v);
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(name + " must be a whole number from " + min + " to " + max + ", was '" + v + "'");
        }
    }

    private static boolean booleanValue(Map<String, String> values, String name) {
        String v = values.get(name).trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new InvalidConfigException(name + " must be true or false, was '" + v + "'");
        };
    }

    /** Parses {@code runtime[.role]=image,image;...}. */
    static Map<String, List<String>> runtimeImages(String text) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String entry : text.split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            List<String> images = eq < 0 ? List.of() : java.util.Arrays.stream(entry.substring(eq + 1).split(","))
                    .map(String::trim).filter(i -> !i.isEmpty()).toList();
            if (eq <= 0 || images.isEmpty()) {
                throw new InvalidConfigException("runtime-images entry '" + entry.trim()
                        + "' must look like runtime=image[,image...] (or runtime.role=...)");
            }
            out.put(entry.substring(0, eq).trim(), images);
        }
        try {
            // Checked now, so that a key naming no runtime or role is a bad option (exit 2), not a failed start.
            io.granda.runtimes.Runtimes.withBaseImages(out);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException("runtime-images: " + e.getMessage());
        }
        return out;
    }

    private static String nonEmpty(Map<String, String> values, String name) {
        String v = values.get(name).trim();
        if (v.isEmpty()) {
            throw new InvalidConfigException(name + " must not be empty");
        }
        return v;
    }

    private static Optional<String> optional(Map<String, String> values, String name) {
        String v = values.get(name).trim();
        return v.isEmpty() ? Optional.empty() : Optional.of(v);
    }
}
