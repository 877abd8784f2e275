package io.granda.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One build of a function's image from its source, as seen at one moment: an immutable value.
 *
 * @param id           the build's id
 * @param functionName the function it builds
 * @param runtime      the runtime's name
 * @param status       what became of it so far
 * @param revision     the revision it made, 0 while running or when it failed
 * @param started      when it started
 * @param ended        when it ended, null while it runs
 * @param message      why it failed (the compiler's own words), empty otherwise
 * @param log          its output so far
 * @param tenant       the tenant whose function it builds
 */
public record BuildInfo(String id, String functionName, String runtime, Status status, long revision,
                        Instant started, Instant ended, String message, String log, String tenant) {

    public BuildInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        message = Objects.requireNonNullElse(message, "");
        log = Objects.requireNonNullElse(log, "");
        Objects.requireNonNull(tenant, "tenant");
    }

    /** Where a build is. */
    public enum Status {
        /** Waiting for a build slot. */
        QUEUED,
        /** Building. */
        RUNNING,
        /** Built and registered. */
        SUCCEEDED,
        /** The build failed; nothing was registered or changed. */
        FAILED
    }
}
