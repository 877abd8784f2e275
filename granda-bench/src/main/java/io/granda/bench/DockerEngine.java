package io.granda.bench;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The bench's own connection to the Docker engine, made the way Granda's Docker backend makes its own (docker-java
 * over the Apache HTTP client, {@code DOCKER_HOST} or the local socket): for the engine floor, for checking that the
 * engine has removed what a phase left before the next one starts, and for removing whatever a benchmark left.
 * Thread-safe.
 */
public final class DockerEngine implements AutoCloseable {

    /** The label Granda puts its owner id in (io.granda.docker.DockerBackend.LABEL_OWNER). */
    public static final String LABEL_OWNER = "io.granda.owner";
    /** The label Granda puts the function's name in. */
    public static final String LABEL_FUNCTION = "io.granda.function";

    private final DockerClient docker;
    private final String host;

    private DockerEngine(String host) {
        this.host = host;
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(URI.create(host))
                .maxConnections(100)
                .connectionTimeout(Duration.ofSeconds(5))
                .responseTimeout(Duration.ofSeconds(60))
                .build();
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host)
                .withDockerTlsVerify(false)
                .build();
        this.docker = DockerClientImpl.getInstance(config, http);
    }

    /** @return a client of {@code DOCKER_HOST}, else {@code unix:///var/run/docker.sock} */
    public static DockerEngine connect() {
        String env = System.getenv("DOCKER_HOST");
        return new DockerEngine(env == null || env.isBlank() ? "unix:///var/run/docker.sock" : env.strip());
    }

    /** @return docker-java's client */
    public DockerClient client() {
        return docker;
    }

    /** @return e.g. {@code 20.10.24 (API 1.41)} */
    public String version() {
        Version v = docker.versionCmd().exec();
        return v.getVersion() + " (API " + v.getApiVersion() + ")";
    }

    /** @return whether the engine has this image */
    public boolean hasImage(String image) {
        try {
            docker.inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /** @return the containers, in any state, that carry every one of these labels */
    public List<Container> containers(Map<String, String> labels) {
        return docker.listContainersCmd().withShowAll(true).withLabelFilter(labels).exec();
    }

    /** Force-removes one container; a container already gone is fine. */
    public void remove(String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException e) {
            // Already gone.
        }
    }

    /**
     * Force-removes every container that carries these labels.
     *
     * @return how many there were
     */
    public int removeAll(Map<String, String> labels) {
        List<Container> found = containers(labels);
        for (Container c : found) {
            remove(c.getId());
        }
        return found.size();
    }

    @Override
    public void close() {
        try {
            docker.close();
        } catch (IOException ignored) {
            // Nothing left to do with a client being closed.
        }
    }

    @Override
    public String toString() {
        return "DockerEngine[" + host + "]";
    }
}
