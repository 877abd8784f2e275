package io.granda.runtimes;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Go exec shim (go and shell runtimes) running the shell sample with bash, as the shell runtime's image does.
 * Needs a Go toolchain on this host to build the shim, and is skipped without one: the images' tests are the real
 * check.
 */
class ExecShimTest extends ProgramShimContract {

    @TempDir
    static Path shimBuild;
    static Path execShim;

    @BeforeAll
    static void buildTheShim() throws Exception {
        assumeTrue(Samples.onPath("go").isPresent(), "no go on this host: the exec shim is tested in its images");
        Path dir = Samples.writeFunctionDirectory(Samples.runtime("shell"), Samples.source("shell", "shell-program"),
                shimBuild.resolve("src"));
        execShim = shimBuild.resolve("exec-shim");
        ProcessBuilder go = new ProcessBuilder("go", "build", "-trimpath", "-buildvcs=false", "-o", execShim.toString(),
                ".").directory(dir.resolve(".granda/execshim").toFile()).redirectErrorStream(true);
        go.environment().putAll(Map.of("GOPROXY", "off", "GOTOOLCHAIN", "local", "CGO_ENABLED", "0", "GOFLAGS", ""));
        Process p = go.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "go build finishes");
        assertEquals(0, p.exitValue(), "go build of the exec shim: " + output);
    }

    @Override
    ShimProcess start(Path dir) throws Exception {
        Samples.writeFunctionDirectory(Samples.runtime("shell"), Samples.source("shell", "shell-program"), dir);
        return ShimProcess.start(List.of(execShim.toString(), "--", "bash", dir.resolve("handler.sh").toString()), dir,
                Map.of());
    }

    @Override
    String programName() {
        return "handler.sh";
    }

    @Test
    void withoutASocketItBecomesTheProgram() throws Exception {
        Path dir = Samples.writeFunctionDirectory(Samples.runtime("shell"), Samples.source("shell", "shell-program"),
                temp.resolve("run-mode"));
        Process p = new ProcessBuilder(execShim.toString(), "--", "bash", dir.resolve("handler.sh").toString(), "hi")
                .redirectInput(ProcessBuilder.Redirect.from(Files.createFile(temp.resolve("empty")).toFile())).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        assertEquals("arg=hi stdin=\n", out);
    }
}
