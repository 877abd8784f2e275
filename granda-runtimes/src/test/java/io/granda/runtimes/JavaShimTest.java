package io.granda.runtimes;

import io.granda.core.build.FunctionSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java shim, compiled as the image compiles it ({@code javac --release 17} with the function's files) and run on
 * the JDK that runs these tests. {@link Java17ShimTest} runs the same on a Java 17, as Debian's base image has.
 */
class JavaShimTest extends ShimContract {

    /** @return the JDK to compile and run with */
    Path javaHome() {
        return Path.of(System.getProperty("java.home"));
    }

    @Override
    ShimProcess start(Path dir) throws Exception {
        return startSample("java-string", dir);
    }

    @Override
    String echoTarget() {
        return "/";
    }

    ShimProcess startSample(String sample, Path dir) throws Exception {
        compile(Samples.source("java", sample), dir);
        return ShimProcess.start(List.of(javaHome().resolve("bin/java").toString(), "-Xshare:auto", "-cp",
                dir.toString(), "GrandaShim"), dir, Map.of());
    }

    /** Compiles as the Dockerfile does: every .java file and the shim, for Java 17, into the function's directory. */
    void compile(FunctionSource source, Path dir) throws Exception {
        Samples.writeFunctionDirectory(Samples.runtime("java"), source, dir);
        List<String> command = new ArrayList<>(List.of(javaHome().resolve("bin/javac").toString(), "--release", "17",
                "-encoding", "UTF-8", "-d", dir.toString()));
        try (Stream<Path> files = Files.walk(dir)) {
            files.filter(p -> p.toString().endsWith(".java")).forEach(p -> command.add(p.toString()));
        }
        Process javac = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(javac.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(javac.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, javac.exitValue(), "javac: " + output);
    }

    @Test
    void aStringAnswerIsUtf8Text() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/", "hello wörld ");
            assertEquals(200, r.status());
            assertEquals("text/plain; charset=utf-8", r.header("content-type"));
            assertEquals("Hello, wörld!", r.text());
        }
    }

    @Test
    void nullIsNoContent() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/", "");
            assertEquals(204, r.status());
            assertEquals("echo", client.post("/", "echo").text(), "the connection is still in step");
        }
    }

    @Test
    void anExceptionIs500WithTheFunctionsOwnTrace() throws Exception {
        try (HotClient client = shim.connect()) {
            HotClient.Response r = client.post("/", "fail");
            assertEquals(500, r.status());
            assertTrue(r.text().startsWith("java.lang.IllegalArgumentException: boom from the handler"), r.text());
            assertTrue(r.text().contains("at Handler.handle(Handler.java:"), r.text());
            assertFalse(r.text().contains("GrandaShim"), "the shim's frames are cut: " + r.text());
            assertTrue(shim.stderr().contains("boom from the handler"));
            assertEquals("again", client.post("/", "again").text());
        }
    }

    @Test
    void theHandlerClassIsInitialisedOnce() throws Exception {
        try (HotClient client = shim.connect(); HotClient other = shim.connect()) {
            assertEquals("1", client.post("/", "initialisations").text());
            assertEquals("1", other.post("/", "initialisations").text());
        }
    }

    @Test
    void theBytesHandleWinsOverTheStringOne() throws Exception {
        try (ShimProcess bytes = startSample("java-bytes", temp.resolve("bytes"));
             HotClient client = bytes.connect()) {
            HotClient.Response r = client.send("POST", "/", Map.of(), new byte[] {1, 2, (byte) 0xff});
            assertEquals(200, r.status());
            assertEquals("application/octet-stream", r.header("content-type"));
            assertArrayEquals(new byte[] {(byte) 0xff, 2, 1}, r.body());
        }
    }

    @Test
    void theBuildsCheckRefusesAHandlerItCannotCall() throws Exception {
        Path dir = temp.resolve("wrong");
        compile(Samples.source("java", "Handler.java",
                "public class Handler { public static int handle(int x) { return x; } }"), dir);
        assertEquals("error: class Handler has neither public static byte[] handle(byte[]) nor public static String"
                + " handle(String)", check(dir));
        Path packaged = temp.resolve("packaged");
        compile(Samples.source("java", "Handler.java",
                "package fn;\npublic class Handler { public static String handle(String x) { return x; } }"), packaged);
        assertTrue(check(packaged).startsWith("error: no class Handler"), check(packaged));
    }

    @Test
    void theBuildsCheckRunsNoCodeOfTheFunction() throws Exception {
        Path dir = temp.resolve("static");
        compile(Samples.source("java", "Handler.java", "public class Handler {\n"
                + "    static { if (true) throw new IllegalStateException(\"ran at build time\"); }\n"
                + "    public static String handle(String x) { return x; }\n}"), dir);
        assertEquals("", check(dir));
    }

    /** Runs the shim's build-time check; @return its stderr, stripped ("" when it passed) */
    private String check(Path dir) throws Exception {
        Process p = new ProcessBuilder(javaHome().resolve("bin/java").toString(), "-cp", dir.toString(), "GrandaShim",
                "--check").start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        assertEquals(err.isEmpty() ? 0 : 1, p.exitValue(), err);
        return err;
    }
}
