package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A docker-java client of the tests' own, to look at the engine independently of the backend under test.
 */
final class TestDocker {

    private TestDocker() {
    }

    /**
     * @param requiredImage an image the tests need; fails the tests with how to build it when it is missing
     * @return a client of the engine at {@code DOCKER_HOST}, else the default socket
     */
    static DockerClient connect(String requiredImage) {
        String host = DockerBackendConfig.defaultDockerHost();
        DockerClient docker = DockerClientImpl.getInstance(
                DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host).build(),
                new ApacheDockerHttpClient.Builder().dockerHost(URI.create(host)).build());
        try {
            docker.inspectImageCmd(requiredImage).exec();
        } catch (NotFoundException e) {
            fail(requiredImage + " is missing: run scripts/build-images.sh");
        }
        return docker;
    }
}
