package io.granda.testkit.facade;

import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Ready-made results for {@link io.granda.testkit.FakeBackend#withBehaviour}. */
final class Runs {

    private Runs() {
    }

    static RunOnceResult exited(int exitCode, String stdout, Duration run) {
        return new RunOnceResult(RunOnceResult.Termination.EXITED, exitCode, bytes(stdout), false, "",
                Duration.ZERO, Duration.ofMillis(30), run, -1);
    }

    static RunOnceResult ended(RunOnceResult.Termination termination, int exitCode, String stderr) {
        return new RunOnceResult(termination, exitCode, new byte[0], false, stderr, Duration.ZERO,
                Duration.ofMillis(30), Duration.ofMillis(10), -1);
    }

    static String payload(RunOnceRequest request) {
        return new String(request.payload(), StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
