/**
 * The Docker backend: runs functions in Docker containers through docker-java, in run mode (one container per call)
 * and as hot instances (long-lived containers serving HTTP/1.1 on a unix socket in a per-instance host directory),
 * pulls missing images, labels every container with its owner and reaps leftovers, containers and instance
 * directories alike. Public types: {@link io.granda.docker.DockerBackend}, its
 * {@link io.granda.docker.DockerBackendConfig} and the {@link io.granda.docker.DockerBackendProvider} that
 * {@link java.util.ServiceLoader} finds under the name {@code docker}; everything else here is package-private.
 */
package io.granda.docker;
