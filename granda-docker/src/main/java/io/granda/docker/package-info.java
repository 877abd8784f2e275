/**
 * The Docker backend: runs functions in Docker containers through docker-java (run mode: one container per call),
 * pulls missing images, labels every container with its owner and reaps leftovers. Public types: {@link
 * io.granda.docker.DockerBackend}, its {@link io.granda.docker.DockerBackendConfig} and the {@link
 * io.granda.docker.DockerBackendProvider} that {@link java.util.ServiceLoader} finds under the name {@code docker};
 * everything else here is package-private.
 */
package io.granda.docker;
