package io.granda.server;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The docker-settings option: name=value pairs handed to the Docker backend as docker.* settings. */
class ServerConfigDockerSettingsTest {

    @Test
    void pairsBecomeDockerSettingsWithOrWithoutThePrefix() {
        ServerConfig c = ServerConfig.from(new String[] {"--docker-settings",
                "pids-limit=256, docker.cpus=2,user=,read-only-rootfs = false"}, Map.of());
        assertEquals(Map.of("docker.pids-limit", "256", "docker.cpus", "2", "docker.user", "",
                "docker.read-only-rootfs", "false"), c.dockerSettings());
    }

    @Test
    void theVariableWorksAndNoneIsEmpty() {
        assertEquals(Map.of(), ServerConfig.from(new String[0], Map.of()).dockerSettings());
        assertEquals(Map.of("docker.tmp-size-mb", "16"), ServerConfig.from(new String[0],
                Map.of("GRANDA_DOCKER_SETTINGS", "tmp-size-mb=16")).dockerSettings());
    }

    @Test
    void aPairWithoutANameIsABadOption() {
        assertThrows(ServerConfig.InvalidConfigException.class,
                () -> ServerConfig.from(new String[] {"--docker-settings", "pids-limit"}, Map.of()));
        assertThrows(ServerConfig.InvalidConfigException.class,
                () -> ServerConfig.from(new String[] {"--docker-settings", "=1"}, Map.of()));
    }
}
