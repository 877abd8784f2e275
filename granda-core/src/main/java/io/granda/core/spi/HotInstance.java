package io.granda.core.spi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * A started, ready hot instance, as its {@link Backend} reports it: an immutable value.
 *
 * @param instanceId  the id Granda gave it
 * @param backendRef  the backend's own id of it (e.g. a container id), for the backend's use
 * @param socket      the host path of the unix socket the instance serves HTTP/1.1 on
 * @param imagePull   time spent pulling a missing image, zero when it was present
 * @param createStart time to create and start it
 * @param init        time from started until ready (the socket accepted a connection)
 */
public record HotInstance(
        String instanceId,
        String backendRef,
        Path socket,
        Duration imagePull,
        Duration createStart,
        Duration init) {

    public HotInstance {
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(backendRef, "backendRef");
        Objects.requireNonNull(socket, "socket");
        imagePull = Objects.requireNonNullElse(imagePull, Duration.ZERO);
        createStart = Objects.requireNonNullElse(createStart, Duration.ZERO);
        init = Objects.requireNonNullElse(init, Duration.ZERO);
    }
}
