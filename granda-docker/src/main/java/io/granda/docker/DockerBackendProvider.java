package io.granda.docker;

import io.granda.core.spi.Backend;
import io.granda.core.spi.BackendProvider;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;

/**
 * Makes a {@link DockerBackend} from settings; found through {@link java.util.ServiceLoader} under the name
 * {@code docker}. Stateless and thread-safe.
 *
 * <p>Settings (all optional; unknown keys are ignored):
 * <ul>
 *   <li>{@value #HOST}: the engine's address (default: {@code DOCKER_HOST}, else
 *       {@value DockerBackendConfig#DEFAULT_DOCKER_HOST})</li>
 *   <li>{@value #MAX_CONNECTIONS}: pooled connections to the engine</li>
 *   <li>{@value #CONNECT_TIMEOUT}, {@value #RESPONSE_TIMEOUT}, {@value #PULL_TIMEOUT}, {@value #TEARDOWN_TIMEOUT}:
 *       durations such as {@code 500ms}, {@code 30s}, {@code 5m} or ISO-8601 {@code PT30S}</li>
 *   <li>{@value #NETWORK_MODE}: the containers' network mode (default {@code none})</li>
 *   <li>{@value #EGRESS_NETWORK} and {@value #EGRESS_FUNCTIONS}: a Docker network, and the names of the functions
 *       (separated by spaces or semicolons) whose containers join it; every other function keeps
 *       {@value #NETWORK_MODE}</li>
 *   <li>{@value #RUN_DIRECTORY}: the absolute directory under which hot instances get their socket directories
 *       (default {@code ${java.io.tmpdir}/granda-<ownerId>})</li>
 *   <li>the lock-down of every container ({@link DockerBackendConfig.Hardening}): {@value #USER} ({@code uid[:gid]}
 *       or a name; blank: the image's own user), {@value #READ_ONLY_ROOTFS}, {@value #TMP_SIZE_MB} (0: no tmpfs),
 *       {@value #TMP_NOEXEC}, {@value #CAP_DROP_ALL}, {@value #NO_NEW_PRIVILEGES} ({@code true}/{@code false}),
 *       {@value #PIDS_LIMIT}, {@value #CPUS}, {@value #NOFILE_LIMIT} (0: no limit), {@value #LOG_MAX_SIZE},
 *       {@value #LOG_MAX_FILES}</li>
 * </ul>
 * Defaults are those of {@link DockerBackendConfig#defaults(String)}.
 */
public final class DockerBackendProvider implements BackendProvider {

    /** Setting: the engine's address. */
    public static final String HOST = "docker.host";
    /** Setting: pooled connections to the engine. */
    public static final String MAX_CONNECTIONS = "docker.max-connections";
    /** Setting: longest wait to connect to the engine. */
    public static final String CONNECT_TIMEOUT = "docker.connect-timeout";
    /** Setting: longest the engine may stay silent answering one request. */
    public static final String RESPONSE_TIMEOUT = "docker.response-timeout";
    /** Setting: longest an image pull may take. */
    public static final String PULL_TIMEOUT = "docker.pull-timeout";
    /** Setting: longest the removal of a container may take. */
    public static final String TEARDOWN_TIMEOUT = "docker.teardown-timeout";
    /** Setting: the containers' network mode. */
    public static final String NETWORK_MODE = "docker.network-mode";
    /** Setting: the directory under which hot instances get their socket directories. */
    public static final String RUN_DIRECTORY = "docker.run-directory";
    /** Setting: the Docker network functions allowed egress join (none by default). */
    public static final String EGRESS_NETWORK = "docker.egress-network";
    /** Setting: names of the functions allowed egress, separated by spaces or semicolons. */
    public static final String EGRESS_FUNCTIONS = "docker.egress-functions";

    /** Setting: the user functions run as; blank for the image's own. */
    public static final String USER = "docker.user";
    /** Setting: whether the root file system is read-only. */
    public static final String READ_ONLY_ROOTFS = "docker.read-only-rootfs";
    /** Setting: the size of the {@code /tmp} tmpfs in MiB; 0 for none. */
    public static final String TMP_SIZE_MB = "docker.tmp-size-mb";
    /** Setting: whether {@code /tmp} is {@code noexec}. */
    public static final String TMP_NOEXEC = "docker.tmp-noexec";
    /** Setting: whether every capability is dropped. */
    public static final String CAP_DROP_ALL = "docker.cap-drop-all";
    /** Setting: whether {@code no-new-privileges} is set. */
    public static final String NO_NEW_PRIVILEGES = "docker.no-new-privileges";
    /** Setting: most processes per container; 0 for no limit. */
    public static final String PIDS_LIMIT = "docker.pids-limit";
    /** Setting: CPUs per container, e.g. {@code 0.5}; 0 for no limit. */
    public static final String CPUS = "docker.cpus";
    /** Setting: open files per process; 0 for the engine's default. */
    public static final String NOFILE_LIMIT = "docker.nofile-limit";
    /** Setting: the container log's size limit, e.g. {@code 1m}. */
    public static final String LOG_MAX_SIZE = "docker.log-max-size";
    /** Setting: container log files kept. */
    public static final String LOG_MAX_FILES = "docker.log-max-files";

    /** For {@link java.util.ServiceLoader}. */
    public DockerBackendProvider() {
    }

    @Override
    public String name() {
        return "docker";
    }

    /**
     * {@inheritDoc}
     *
     * <p>Does not contact the engine: an unreachable engine shows in {@link Backend#health()} and as
     * {@link io.granda.core.BackendUnavailableException} from the calls that need it.
     *
     * @throws IllegalArgumentException when a setting is invalid (the message names it)
     */
    @Override
    public Backend create(String ownerId, Map<String, String> settings) {
        return new DockerBackend(config(ownerId, settings));
    }

    /**
     * @return the configuration these settings describe, validated
     * @throws IllegalArgumentException when a setting is invalid (the message names it)
     */
    public static DockerBackendConfig config(String ownerId, Map<String, String> settings) {
        DockerBackendConfig c = DockerBackendConfig.defaults(ownerId);
        String host = settings.get(HOST);
        if (host != null && !host.isBlank()) {
            c = c.withDockerHost(host.strip());
        }
        String connections = settings.get(MAX_CONNECTIONS);
        if (connections != null) {
            try {
                c = c.withMaxConnections(Integer.parseInt(connections.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(MAX_CONNECTIONS + " must be a whole number, was '" + connections
                        + "'", e);
            }
        }
        c = c.withTimeouts(duration(settings, CONNECT_TIMEOUT, c.connectTimeout()),
                duration(settings, RESPONSE_TIMEOUT, c.responseTimeout()));
        c = c.withPullTimeout(duration(settings, PULL_TIMEOUT, c.pullTimeout()));
        c = c.withTeardownTimeout(duration(settings, TEARDOWN_TIMEOUT, c.teardownTimeout()));
        String network = settings.get(NETWORK_MODE);
        if (network != null) {
            c = c.withNetworkMode(network.strip());
        }
        String runDirectory = settings.get(RUN_DIRECTORY);
        if (runDirectory != null && !runDirectory.isBlank()) {
            try {
                c = c.withRunDirectory(Path.of(runDirectory.strip()));
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException(RUN_DIRECTORY + " must be a path, was '" + runDirectory + "'", e);
            }
        }
        c = c.withHardening(hardening(settings, c.hardening()));
        String egressFunctions = settings.getOrDefault(EGRESS_FUNCTIONS, "");
        c = c.withEgress(new DockerBackendConfig.Egress(settings.getOrDefault(EGRESS_NETWORK, ""),
                java.util.Arrays.stream(egressFunctions.split("[\\s;]+")).filter(n -> !n.isBlank())
                        .collect(java.util.stream.Collectors.toSet())));
        return c.validate();
    }

    private static DockerBackendConfig.Hardening hardening(Map<String, String> settings,
                                                           DockerBackendConfig.Hardening h) {
        String user = settings.get(USER);
        if (user != null) {
            h = h.withUser(user.strip());
        }
        h = h.withReadOnlyRootfs(bool(settings, READ_ONLY_ROOTFS, h.readOnlyRootfs()));
        h = h.withTmp((int) whole(settings, TMP_SIZE_MB, h.tmpSizeMb()), bool(settings, TMP_NOEXEC, h.tmpNoexec()));
        h = h.withPrivileges(bool(settings, CAP_DROP_ALL, h.dropAllCapabilities()),
                bool(settings, NO_NEW_PRIVILEGES, h.noNewPrivileges()));
        double cpus = h.cpus();
        String rawCpus = settings.get(CPUS);
        if (rawCpus != null && !rawCpus.isBlank()) {
            try {
                cpus = Double.parseDouble(rawCpus.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(CPUS + " must be a number such as 0.5 or 2, was '" + rawCpus + "'",
                        e);
            }
        }
        h = h.withLimits(whole(settings, PIDS_LIMIT, h.pidsLimit()), cpus,
                whole(settings, NOFILE_LIMIT, h.nofileLimit()));
        String logSize = settings.get(LOG_MAX_SIZE);
        h = h.withLog(logSize == null || logSize.isBlank() ? h.logMaxSize() : logSize.strip().toLowerCase(Locale.ROOT),
                (int) whole(settings, LOG_MAX_FILES, h.logMaxFiles()));
        return h;
    }

    private static boolean bool(Map<String, String> settings, String key, boolean fallback) {
        String raw = settings.get(key);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        return switch (raw.strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException(key + " must be true or false, was '" + raw + "'");
        };
    }

    private static long whole(Map<String, String> settings, String key, long fallback) {
        String raw = settings.get(key);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        try {
            long v = Long.parseLong(raw.strip());
            if (v > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, was '" + raw + "'", e);
        }
    }

    private static Duration duration(Map<String, String> settings, String key, Duration fallback) {
        String raw = settings.get(key);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        String v = raw.strip().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("p")) {
                return Duration.parse(v.toUpperCase(Locale.ROOT));
            }
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).strip()));
            }
            long amount = Long.parseLong(v.substring(0, v.length() - 1).strip());
            return switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(amount);
                case 'm' -> Duration.ofMinutes(amount);
                case 'h' -> Duration.ofHours(amount);
                default -> throw new NumberFormatException();
            };
        } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException(key + " must be a duration such as 500ms, 30s, 5m or PT30S, was '"
                    + raw + "'", e);
        }
    }
}
