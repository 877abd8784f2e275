package io.granda.core;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a user asks for when deploying a function: an immutable value.
 *
 * <p>The record only guards against nulls and supplies defaults; whether the values are acceptable (name
 * pattern, timeout and memory bounds) is decided by {@link FunctionLimits#validate(FunctionSpec)}, because
 * those bounds are operator configuration.
 *
 * @param name        unique name, see {@link FunctionLimits#NAME_PATTERN}
 * @param description free text, may be empty
 * @param image       container image reference, e.g. {@code granda/hello:latest}
 * @param mode        how calls are served
 * @param timeout     longest a single call may run
 * @param memoryMb    memory limit of the function's container, in MiB
 * @param env         environment variables given to the function
 * @param scaling     how a hot function's instances scale; ignored in run mode
 * @param runtime     for a function built from source, its runtime's name ({@code python}, ...); empty for a
 *                    function given as an image. The image of a built function is the one Granda built.
 * @param isPrivate   whether calling the function's URL needs an API key of its tenant (or an admin key); a public
 *                    function's unguessable URL is its only secret, as in the original Granda
 */
public record FunctionSpec(
        String name,
        String description,
        String image,
        ExecutionMode mode,
        Duration timeout,
        int memoryMb,
        Map<String, String> env,
        ScalingPolicy scaling,
        String runtime,
        boolean isPrivate) {

    /** Timeout when none is given; the original Granda's default. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Memory limit when none is given. */
    public static final int DEFAULT_MEMORY_MB = 128;

    public FunctionSpec {
        Objects.requireNonNull(name, "name");
        description = description == null ? "" : description;
        image = image == null ? "" : image;
        mode = mode == null ? ExecutionMode.RUN : mode;
        timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
        memoryMb = memoryMb == 0 ? DEFAULT_MEMORY_MB : memoryMb;
        // Keep insertion order so the environment is shown back as the user wrote it.
        env = env == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
        scaling = scaling == null ? ScalingPolicy.DEFAULT : scaling;
        runtime = runtime == null ? "" : runtime;
    }

    /** A public function (see the canonical constructor). */
    public FunctionSpec(String name, String description, String image, ExecutionMode mode, Duration timeout,
                        int memoryMb, Map<String, String> env, ScalingPolicy scaling, String runtime) {
        this(name, description, image, mode, timeout, memoryMb, env, scaling, runtime, false);
    }

    /** @return true for a function built from source code, false for one given as an image */
    public boolean fromSource() {
        return !runtime.isEmpty();
    }

    /** @return a builder for a spec with the given name and every other field at its default */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** @return a builder holding this spec's values, to derive a changed copy */
    public Builder toBuilder() {
        return new Builder(name).description(description).image(image).mode(mode).timeout(timeout)
                .memoryMb(memoryMb).env(env).scaling(scaling).runtime(runtime).isPrivate(isPrivate);
    }

    /** Builds a {@link FunctionSpec}; not thread-safe. */
    public static final class Builder {
        private String name;
        private String description = "";
        private String image = "";
        private ExecutionMode mode = ExecutionMode.RUN;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int memoryMb = DEFAULT_MEMORY_MB;
        private Map<String, String> env = Map.of();
        private ScalingPolicy scaling = ScalingPolicy.DEFAULT;
        private String runtime = "";
        private boolean isPrivate;

        private Builder(String name) {
            this.name = name;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder description(String description) {
            this.description = description;
            return this;
        }

        public Builder image(String image) {
            this.image = image;
            return this;
        }

        public Builder mode(ExecutionMode mode) {
            this.mode = mode;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder memoryMb(int memoryMb) {
            this.memoryMb = memoryMb;
            return this;
        }

        public Builder env(Map<String, String> env) {
            this.env = env;
            return this;
        }

        public Builder scaling(ScalingPolicy scaling) {
            this.scaling = scaling;
            return this;
        }

        /** The runtime of a function built from source; Granda sets it when it builds one. */
        public Builder runtime(String runtime) {
            this.runtime = runtime;
            return this;
        }

        /** Whether calling the function's URL needs an API key of its tenant (default false: the URL is the secret). */
        public Builder isPrivate(boolean isPrivate) {
            this.isPrivate = isPrivate;
            return this;
        }

        public FunctionSpec build() {
            return new FunctionSpec(name, description, image, mode, timeout, memoryMb, env, scaling, runtime,
                    isPrivate);
        }
    }
}
