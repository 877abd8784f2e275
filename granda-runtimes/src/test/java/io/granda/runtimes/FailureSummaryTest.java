package io.granda.runtimes;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The build failures under test resource {@code logs/} are real: each is the output of {@code docker build} (the
 * classic builder, whose stderr comes wrapped in colour codes) of a context these runtimes made, on the Debian base
 * images.
 */
class FailureSummaryTest {

    @Test
    void pythonSyntaxError() {
        assertEquals("""
                  File "handler.py", line 2
                    return (1,
                           ^
                SyntaxError: '(' was never closed""", summary("python", "python-syntax"));
    }

    @Test
    void pipRequirementNotFound() {
        assertEquals("""
                ERROR: Could not find a version that satisfies the requirement no-such-package-granda==1.0 (from versions: none)
                ERROR: No matching distribution found for no-such-package-granda==1.0""",
                summary("python", "python-pip"));
    }

    @Test
    void nodeSyntaxError() {
        assertEquals("""
                /app/handler.js:2
                  return foo(;
                             ^
                SyntaxError: Unexpected token ';'""", summary("node", "node-syntax"));
    }

    @Test
    void npmInstallFailure() {
        assertEquals("""
                npm ERR! code SELF_SIGNED_CERT_IN_CHAIN
                npm ERR! errno SELF_SIGNED_CERT_IN_CHAIN
                npm ERR! request to https://registry.npmjs.org/no-such-package-granda-xyz failed, reason: self-signed certificate in certificate chain""",
                summary("node", "npm-missing"));
    }

    @Test
    void goCompileErrors() {
        assertEquals("""
                # function
                ./main.go:6:14: undefined: undefinedThing
                ./main.go:7:6: unused declared but not used""", summary("go", "go-compile"));
    }

    @Test
    void goDependencyThatCannotBeFetchedOffline() {
        assertEquals("main.go:5:2: cannot find module providing package github.com/google/uuid: module lookup disabled"
                + " by GOPROXY=off", summary("go", "go-dep"));
    }

    @Test
    void goNewerThanTheToolchain() {
        assertEquals("""
                # example.com/fn
                ./main.go:6:17: cannot range over 3 (untyped int constant)
                note: module requires Go 1.22""", summary("go", "go-version"));
    }

    @Test
    void javacError() {
        assertEquals("""
                Handler.java:3: error: ';' expected
                        return input.nope() + missing
                                                     ^
                1 error""", summary("java", "java-compile"));
    }

    @Test
    void javaHandlerTheShimCannotCall() {
        assertEquals("error: class Handler has neither public static byte[] handle(byte[]) nor public static String"
                + " handle(String)", summary("java", "java-nohandle"));
    }

    @Test
    void bashSyntaxError() {
        assertEquals("handler.sh: line 4: syntax error: unexpected end of file", summary("shell", "shell-syntax"));
    }

    @Test
    void buildKitsPrefixesAreTakenOff() {
        String log = """
                #7 [4/5] RUN /venv/bin/python3 -m py_compile handler.py .granda/shim.py
                #7 0.512   File "handler.py", line 2
                #7 0.512     return (1,
                #7 0.512            ^
                #7 0.512 SyntaxError: '(' was never closed
                #7 ERROR: process "/bin/sh -c /venv/bin/python3 -m py_compile handler.py" did not complete successfully
                """;
        assertEquals("""
                  File "handler.py", line 2
                    return (1,
                           ^
                SyntaxError: '(' was never closed""", Samples.runtime("python").failureSummary(log));
    }

    @Test
    void aMessageTheLogRepeatsIsGivenOnce() {
        String once = log("go-compile");
        assertEquals(summary("go", "go-compile"), Samples.runtime("go").failureSummary(once + "\n" + once));
    }

    @Test
    void withoutAKnownMessageTheLastLinesAreTheSummary() {
        String log = "Step 1/2 : FROM granda-base/python:3.11-bookworm\n ---> 818fee7a3d2d\n"
                + IntStream.rangeClosed(1, 15).mapToObj(i -> "line " + i).collect(Collectors.joining("\n"))
                + "\n\ngranda: build failed\n";
        assertEquals(IntStream.rangeClosed(6, 15).mapToObj(i -> "line " + i).collect(Collectors.joining("\n")),
                Samples.runtime("python").failureSummary(log));
        assertEquals("", Samples.runtime("python").failureSummary(""));
    }

    @Test
    void aSummaryIsAtMostTwentyLines() {
        String log = IntStream.range(0, 50).mapToObj(i -> "./main.go:" + i + ":1: undefined: x" + i)
                .collect(Collectors.joining("\n"));
        String summary = Samples.runtime("go").failureSummary(log);
        assertEquals(20, summary.lines().count());
        assertTrue(summary.startsWith("./main.go:0:1: undefined: x0"));
    }

    private static String summary(String runtime, String logName) {
        return Samples.runtime(runtime).failureSummary(log(logName));
    }

    private static String log(String name) {
        try (InputStream in = FailureSummaryTest.class.getResourceAsStream("logs/" + name + ".log")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
