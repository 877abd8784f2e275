package io.granda.docker;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The attach connection's failures say what went wrong (the stream itself is covered by DockerBackendTest). */
class AttachStreamTest {

    @Test
    void attachToAMissingContainerReportsTheEnginesAnswer() {
        URI host = URI.create(DockerBackendConfig.defaultDockerHost());

        IOException e = assertThrows(IOException.class,
                () -> AttachStream.open(host, "granda-no-such-container", Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
        assertTrue(e.getMessage().contains("granda-no-such-container"), e.getMessage());
    }

    @Test
    void unreachableEngineNamesTheAddress() {
        URI host = URI.create("unix:///nonexistent.sock");

        IOException e = assertThrows(IOException.class,
                () -> AttachStream.open(host, "any", Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("unix:///nonexistent.sock"), e.getMessage());
    }
}
