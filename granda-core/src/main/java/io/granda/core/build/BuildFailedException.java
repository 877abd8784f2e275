package io.granda.core.build;

import io.granda.core.GrandaException;

import java.util.Objects;

/**
 * A function's image could not be built from its source: a compile error, a syntax error, a dependency that cannot
 * be installed. Nothing was registered or changed; the previous revision, if any, keeps serving. The HTTP API
 * answers 422 with {@link #getMessage()} (the compiler's own words) and the log.
 */
public class BuildFailedException extends GrandaException {

    private final String log;

    /**
     * @param message what failed, in the words of the failing tool where possible
     * @param log     the build's whole output
     */
    public BuildFailedException(String message, String log) {
        super(message);
        this.log = Objects.requireNonNullElse(log, "");
    }

    /** @return the build's whole output */
    public String log() {
        return log;
    }

    @Override
    public String code() {
        return "build_failed";
    }
}
