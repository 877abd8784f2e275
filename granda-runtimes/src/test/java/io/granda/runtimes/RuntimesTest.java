package io.granda.runtimes;

import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.build.BaseImage;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.RuntimeCatalog;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimesTest {

    private final RuntimeCatalog catalog = Runtimes.defaults();

    @Test
    void offersTheFiveRuntimesInOrder() {
        assertEquals(List.of("python", "node", "go", "java", "shell"), catalog.all().stream().map(LanguageRuntime::name).toList());
    }

    @Test
    void findsARuntimeByNameOrAliasWhateverTheCase() {
        Map<String, String> expected = Map.ofEntries(
                Map.entry("python", "python"), Map.entry("PYTHON", "python"), Map.entry("Python3", "python"),
                Map.entry("python3", "python"), Map.entry("Python2.7", "python"), Map.entry(" python2.7 ", "python"),
                Map.entry("node", "node"), Map.entry("NodeJS", "node"),
                Map.entry("go", "go"), Map.entry("Go1.7", "go"), Map.entry("go1.6", "go"), Map.entry("GO1.5", "go"),
                Map.entry("golang", "go"),
                Map.entry("java", "java"), Map.entry("Java17", "java"), Map.entry("java21", "java"),
                Map.entry("shell", "shell"), Map.entry("bash", "shell"), Map.entry("SH", "shell"));
        expected.forEach((asked, name) -> assertEquals(name, catalog.require(asked).name(), asked));
    }

    @Test
    void anUnknownRuntimeIsRefusedNamingTheKnownOnes() {
        assertEquals(Optional.empty(), catalog.find("cobol"));
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class, () -> catalog.require("ruby"));
        assertEquals("runtime", e.field());
        assertTrue(e.getMessage().contains("python, node, go, java, shell"), e.getMessage());
    }

    @Test
    void eachRuntimeSaysItsHandlerAndManifest() {
        assertEquals("handler.py", catalog.require("python").handlerFile());
        assertEquals(Optional.of("requirements.txt"), catalog.require("python").manifestFile());
        assertEquals("handler.js", catalog.require("node").handlerFile());
        assertEquals(Optional.of("package.json"), catalog.require("node").manifestFile());
        assertEquals("main.go", catalog.require("go").handlerFile());
        assertEquals(Optional.of("go.mod"), catalog.require("go").manifestFile());
        assertEquals("Handler.java", catalog.require("java").handlerFile());
        assertEquals(Optional.empty(), catalog.require("java").manifestFile());
        assertEquals("handler.sh", catalog.require("shell").handlerFile());
        catalog.all().forEach(r -> assertTrue(r.description().contains(r.handlerFile()), r.description()));
    }

    @Test
    void theOfficialImagesComeFirstThenTheLocalEquivalents() {
        assertEquals(List.of(new BaseImage("base", List.of("python:3.12-slim", "granda-base/python:3.11-bookworm"))),
                catalog.require("python").baseImages());
        assertEquals(List.of(new BaseImage("base", List.of("node:20-slim", "granda-base/node:18-bookworm"))),
                catalog.require("node").baseImages());
        assertEquals(List.of(new BaseImage("build", List.of("golang:1.22", "granda-base/golang:1.19-bookworm")),
                        new BaseImage("run", List.of("debian:bookworm-slim", "granda-base/debian:bookworm"))),
                catalog.require("go").baseImages());
        assertEquals(List.of(new BaseImage("base", List.of("eclipse-temurin:21-jdk", "granda-base/openjdk:17-bookworm"))),
                catalog.require("java").baseImages());
        assertEquals(catalog.require("go").baseImages(), catalog.require("shell").baseImages());
    }

    @Test
    void overridesReplaceTheCandidatesOfOneImage() {
        RuntimeCatalog c = Runtimes.withBaseImages(Map.of(
                "Python", List.of("registry.local/python:3.12"),
                "go.run", List.of("gcr.io/distroless/static", "debian:bookworm-slim"),
                "java.base", List.of("registry.local/jdk:21")));
        assertEquals(List.of(new BaseImage("base", List.of("registry.local/python:3.12"))),
                c.require("python").baseImages());
        assertEquals(List.of(new BaseImage("build", List.of("golang:1.22", "granda-base/golang:1.19-bookworm")),
                        new BaseImage("run", List.of("gcr.io/distroless/static", "debian:bookworm-slim"))),
                c.require("go").baseImages());
        assertEquals(List.of("registry.local/jdk:21"), c.require("java").baseImages().getFirst().candidates());
        assertEquals(catalog.require("node").baseImages(), c.require("node").baseImages(), "the others keep theirs");
        assertEquals(catalog.require("shell").baseImages(), c.require("shell").baseImages(),
                "shell's run image is its own: it needs bash, which go's need not have");
    }

    @Test
    void theShellRuntimeBuildsItsShimWithGosBuildImageUnlessToldOtherwise() {
        RuntimeCatalog followsGo = Runtimes.withBaseImages(Map.of("go.build", List.of("registry.local/golang:1.22")));
        assertEquals(List.of("registry.local/golang:1.22"), followsGo.require("shell").baseImages().getFirst().candidates());
        RuntimeCatalog own = Runtimes.withBaseImages(Map.of("go.build", List.of("registry.local/golang:1.22"),
                "shell.build", List.of("golang:1.21"), "SHELL.RUN", List.of("ubuntu:24.04")));
        assertEquals(List.of(new BaseImage("build", List.of("golang:1.21")), new BaseImage("run", List.of("ubuntu:24.04"))),
                own.require("shell").baseImages());
    }

    @Test
    void badOverridesAreRefusedNamingTheKey() {
        assertRefused(Map.of("ruby", List.of("ruby:3")), "'ruby': no such runtime or role; known are");
        assertRefused(Map.of("python.build", List.of("x")), "'python.build': no such runtime or role");
        assertRefused(Map.of("go", List.of("golang:1.22")), "runtime go has images for go.build and go.run");
        assertRefused(Map.of("node", List.of()), "'node': give at least one image");
        assertRefused(Map.of("node", List.of("node:20\nRUN rm -rf /")), "is not an image reference");
        assertRefused(Map.of("java", List.of("a"), "java.base", List.of("b")), "given twice");
    }

    @Test
    void aCatalogIsBuiltOnceAndSharesNothingMutable() {
        LanguageRuntime python = catalog.require("python");
        assertSame(python, catalog.require("Python3"));
        assertThrows(UnsupportedOperationException.class, () -> python.aliases().add("py"));
        assertThrows(UnsupportedOperationException.class, () -> python.baseImages().clear());
    }

    private static void assertRefused(Map<String, List<String>> overrides, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Runtimes.withBaseImages(overrides));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
