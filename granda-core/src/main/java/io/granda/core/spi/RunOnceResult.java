package io.granda.core.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * What a run-mode process did: an immutable value (the stdout array is not copied).
 *
 * @param termination     how the process ended
 * @param exitCode        its exit code, {@link io.granda.core.InvocationResult#NO_EXIT_CODE} when it never exited on
 *                        its own
 * @param stdout          what it wrote to stdout, at most the requested number of bytes
 * @param stdoutTruncated true when stdout was longer and was cut
 * @param stderrTail      the end of what it wrote to stderr
 * @param imagePull       time spent pulling a missing image, zero when it was present
 * @param createStart     time to create and start the instance
 * @param run             time from started until it ended (or was stopped)
 * @param cpuMicros       CPU time the process used, {@code -1} when the backend cannot tell
 */
public record RunOnceResult(
        Termination termination,
        int exitCode,
        byte[] stdout,
        boolean stdoutTruncated,
        String stderrTail,
        Duration imagePull,
        Duration createStart,
        Duration run,
        long cpuMicros) {

    public RunOnceResult {
        Objects.requireNonNull(termination, "termination");
        stdout = Objects.requireNonNullElse(stdout, new byte[0]);
        stderrTail = Objects.requireNonNullElse(stderrTail, "");
        imagePull = Objects.requireNonNullElse(imagePull, Duration.ZERO);
        createStart = Objects.requireNonNullElse(createStart, Duration.ZERO);
        run = Objects.requireNonNullElse(run, Duration.ZERO);
    }

    /** How a run-mode process ended. */
    public enum Termination {
        /** It exited on its own; see the exit code. */
        EXITED,
        /** It was still running at the timeout and was killed. */
        TIMED_OUT,
        /** The kernel killed it for exceeding its memory limit. */
        OUT_OF_MEMORY
    }
}
