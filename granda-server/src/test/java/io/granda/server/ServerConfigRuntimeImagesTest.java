package io.granda.server;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runtime-images option: parsed, and checked against the runtimes while the options are read. */
class ServerConfigRuntimeImagesTest {

    private static ServerConfig parse(String runtimeImages) {
        return ServerConfig.from(new String[] {"--runtime-images", runtimeImages}, Map.of());
    }

    @Test
    void entriesGiveCandidatesInOrder() {
        ServerConfig c = parse("python=my/python:3.12, granda-base/python:3.11-bookworm;go.build=my/go:1.22");
        assertEquals(List.of("my/python:3.12", "granda-base/python:3.11-bookworm"), c.runtimeImages().get("python"));
        assertEquals(List.of("my/go:1.22"), c.runtimeImages().get("go.build"));
    }

    @Test
    void aKeyThatNamesNoRuntimeOrRoleIsABadOption() {
        ServerConfig.InvalidConfigException unknown = assertThrows(ServerConfig.InvalidConfigException.class,
                () -> parse("cobol=x"));
        assertTrue(unknown.getMessage().contains("cobol"), unknown.getMessage());
        // go has two images (build and run): a bare "go" does not say which.
        ServerConfig.InvalidConfigException bare = assertThrows(ServerConfig.InvalidConfigException.class,
                () -> parse("go=x"));
        assertTrue(bare.getMessage().contains("go"), bare.getMessage());
        assertThrows(ServerConfig.InvalidConfigException.class, () -> parse("python"));
    }
}
