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
 *   <li>{@value #RUN_DIRECTORY}: the absolute directory under which hot instances get their socket directories
 *       (default {@code ${java.io.tmpdir}/granda-<ownerId>})</li>
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
        return c.validate();
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
