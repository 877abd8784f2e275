package io.granda.runtimes;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DockerfileTemplateTest {

    private static final String TEMPLATE = """
            FROM {{build}} AS build
            #if go.mod
            RUN has-go-mod
            #else
            RUN no-go-mod
            #end
            #if vendor/
            #if !go.sum
            RUN vendor-without-sum
            #end
            RUN vendor
            #end
            FROM {{run}}
            """;

    private static String render(Set<String> files) {
        return new DockerfileTemplate("test", TEMPLATE).render(Map.of("build", "golang:1.22", "run", "debian"),
                path -> path.endsWith("/") ? files.stream().anyMatch(f -> f.startsWith(path)) : files.contains(path));
    }

    @Test
    void placeholdersBecomeTheImagesAndConditionsPickLines() {
        assertEquals("FROM golang:1.22 AS build\nRUN no-go-mod\nFROM debian\n", render(Set.of()));
        assertEquals("FROM golang:1.22 AS build\nRUN has-go-mod\nFROM debian\n", render(Set.of("go.mod")));
        assertEquals("FROM golang:1.22 AS build\nRUN has-go-mod\nRUN vendor-without-sum\nRUN vendor\nFROM debian\n",
                render(Set.of("go.mod", "vendor/modules.txt")));
        assertEquals("FROM golang:1.22 AS build\nRUN has-go-mod\nRUN vendor\nFROM debian\n",
                render(Set.of("go.mod", "go.sum", "vendor/modules.txt")));
    }

    @Test
    void aMalformedTemplateIsTheRuntimesBug() {
        assertThrows(IllegalStateException.class,
                () -> new DockerfileTemplate("t", "#if x\nRUN y\n").render(Map.of(), p -> true));
        assertThrows(IllegalStateException.class,
                () -> new DockerfileTemplate("t", "RUN y\n#end\n").render(Map.of(), p -> true));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new DockerfileTemplate("t", "FROM {{base}}\n").render(Map.of(), p -> true));
        assertTrue(e.getMessage().contains("t:1: no image for {{base}}"), e.getMessage());
    }
}
