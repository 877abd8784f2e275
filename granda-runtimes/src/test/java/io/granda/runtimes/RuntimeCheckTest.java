package io.granda.runtimes;

import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.SourceFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimeCheckTest {

    @ParameterizedTest
    @CsvSource({"python, handler.py", "node, handler.js", "java, Handler.java", "shell, handler.sh"})
    void aSourceWithoutTheHandlerFileIsRefused(String runtimeName, String handler) {
        LanguageRuntime runtime = Samples.runtime(runtimeName);
        FunctionSource source = new FunctionSource(runtimeName, List.of(SourceFile.text("other.txt", "x"),
                SourceFile.text("lib/" + handler, "x")));
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class, () -> runtime.check(source));
        assertEquals("files", e.field());
        assertTrue(e.getMessage().contains("needs " + handler + " at the top"), e.getMessage());
        assertTrue(e.getMessage().contains("other.txt, lib/" + handler), "says what the source has: " + e.getMessage());
        assertDoesNotThrow(() -> runtime.check(source.with(SourceFile.text(handler, "x"))));
    }

    @Test
    void aGoSourceNeedsAGoFileAtTheTopWhateverItsName() {
        LanguageRuntime go = Samples.runtime("go");
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> go.check(Samples.source("go", "util/util.go", "package util")));
        assertTrue(e.getMessage().contains("needs main.go (or another .go file) at the top"), e.getMessage());
        assertDoesNotThrow(() -> go.check(Samples.source("go", "hello.go", "package main")));
        assertDoesNotThrow(() -> go.check(Samples.source("go", "main.go", "package main")));
    }

    @ParameterizedTest
    @ValueSource(strings = {".granda/shim.py", ".granda/x/y.txt", ".GRANDA/shim.py"})
    void filesUnderTheReservedDirectoryAreRefused(String path) {
        for (LanguageRuntime runtime : Runtimes.defaults().all()) {
            FunctionSource source = new FunctionSource(runtime.name(), List.of(
                    SourceFile.text(runtime.handlerFile(), "x"), SourceFile.text(path, "x")));
            InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                    () -> runtime.check(source), runtime.name());
            assertEquals("files", e.field());
            assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        }
    }

    @Test
    void aFileMerelyNamedLikeTheReservedDirectoryIsFine() {
        LanguageRuntime python = Samples.runtime("python");
        assertDoesNotThrow(() -> python.check(new FunctionSource("python", List.of(
                SourceFile.text("handler.py", "x"), SourceFile.text(".granda.txt", "x"),
                SourceFile.text("lib/.granda/x", "x")))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile", ".dockerignore"})
    void theBuildsOwnFilesAreRefusedAtTheTop(String path) {
        LanguageRuntime node = Samples.runtime("node");
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class, () -> node.check(
                new FunctionSource("node", List.of(SourceFile.text("handler.js", "x"), SourceFile.text(path, "x")))));
        assertEquals("files", e.field());
        assertDoesNotThrow(() -> node.check(new FunctionSource("node", List.of(SourceFile.text("handler.js", "x"),
                SourceFile.text("docs/" + path, "x")))));
    }
}
