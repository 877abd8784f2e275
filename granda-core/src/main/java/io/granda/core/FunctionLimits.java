package io.granda.core;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The bounds a function spec must respect: operator configuration with safe defaults, and the one place where a
 * spec is judged acceptable. Immutable and thread-safe.
 *
 * @param maxTimeout        longest timeout a function may ask for
 * @param minMemoryMb       smallest memory limit, in MiB
 * @param maxMemoryMb       largest memory limit, in MiB
 * @param maxDescriptionLength longest description, in characters
 * @param maxEnvEntries     most environment variables a function may set
 * @param maxEnvBytes       largest total size of names and values, in UTF-8 bytes
 * @param maxInstancesPerFunction most instances one hot function may ask for
 * @param maxConcurrency    most calls one hot instance may be asked to serve at once
 * @param maxKeepAlive      longest keep-alive of idle hot instances
 */
public record FunctionLimits(
        Duration maxTimeout,
        int minMemoryMb,
        int maxMemoryMb,
        int maxDescriptionLength,
        int maxEnvEntries,
        int maxEnvBytes,
        int maxInstancesPerFunction,
        int maxConcurrency,
        Duration maxKeepAlive) {

    /**
     * Function names: 1 to 63 characters, lowercase letters, digits and '-', starting with a letter and not
     * ending with '-'. The same rule as a DNS label, so a name is safe in a URL, a container label and an image
     * tag.
     */
    public static final Pattern NAME_PATTERN = Pattern.compile("[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?");

    /** Image references: {@code [registry[:port]/]repo[/repo...][:tag][@sha256:digest]}. */
    public static final Pattern IMAGE_PATTERN = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?/)?"
                    + "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
                    + "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?");

    private static final Pattern ENV_NAME_PATTERN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    /** Environment variables with this prefix are set by the platform and cannot be overridden. */
    public static final String RESERVED_ENV_PREFIX = "GRANDA_";

    /**
     * Defaults: timeout up to 15 min, memory 16 MiB to 4 GiB, 64 env entries in 32 KiB, up to 64 instances per hot
     * function, 1000 calls per instance at once, keep-alive up to 24 h.
     */
    public static final FunctionLimits DEFAULTS = new FunctionLimits(Duration.ofMinutes(15), 16, 4096, 1024, 64,
            32 * 1024, 64, 1000, Duration.ofHours(24));

    public FunctionLimits {
        if (maxTimeout == null || maxTimeout.isNegative() || maxTimeout.isZero()) {
            throw new IllegalArgumentException("maxTimeout must be positive");
        }
        if (minMemoryMb < 6 || maxMemoryMb < minMemoryMb) {
            // Docker refuses limits under 6 MiB.
            throw new IllegalArgumentException("memory bounds must satisfy 6 <= min <= max");
        }
        if (maxInstancesPerFunction < 1 || maxConcurrency < 1) {
            throw new IllegalArgumentException("instance and concurrency bounds must be positive");
        }
        if (maxKeepAlive == null || maxKeepAlive.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("maxKeepAlive must be at least 1 s");
        }
    }

    /** @return a copy with another maximum timeout */
    public FunctionLimits withMaxTimeout(Duration value) {
        return new FunctionLimits(value, minMemoryMb, maxMemoryMb, maxDescriptionLength, maxEnvEntries, maxEnvBytes,
                maxInstancesPerFunction, maxConcurrency, maxKeepAlive);
    }

    /**
     * Checks a spec against these limits.
     *
     * @param spec the spec to check
     * @return the same spec, for chaining
     * @throws InvalidFunctionSpecException naming the first offending field, with what is allowed
     */
    public FunctionSpec validate(FunctionSpec spec) {
        validateName(spec.name());
        if (spec.description().length() > maxDescriptionLength) {
            throw new InvalidFunctionSpecException("description",
                    "description is " + spec.description().length() + " characters; at most "
                            + maxDescriptionLength + " are allowed");
        }
        validateImage(spec.image());
        Duration timeout = spec.timeout();
        if (timeout.isNegative() || timeout.isZero()) {
            throw new InvalidFunctionSpecException("timeoutSeconds", "timeout must be positive");
        }
        if (timeout.compareTo(maxTimeout) > 0) {
            throw new InvalidFunctionSpecException("timeoutSeconds",
                    "timeout " + timeout.toSeconds() + "s is above the maximum of " + maxTimeout.toSeconds() + "s");
        }
        if (spec.memoryMb() < minMemoryMb || spec.memoryMb() > maxMemoryMb) {
            throw new InvalidFunctionSpecException("memoryMb",
                    "memoryMb " + spec.memoryMb() + " is out of range; allowed " + minMemoryMb + " to " + maxMemoryMb);
        }
        validateEnv(spec.env());
        validateScaling(spec);
        return spec;
    }

    private void validateScaling(FunctionSpec spec) {
        ScalingPolicy s = spec.scaling();
        if (s.keepAlive().compareTo(Duration.ofSeconds(1)) < 0 || s.keepAlive().compareTo(maxKeepAlive) > 0) {
            throw new InvalidFunctionSpecException("keepAliveSeconds", "keepAliveSeconds " + s.keepAlive().toSeconds()
                    + " is out of range; allowed 1 to " + maxKeepAlive.toSeconds());
        }
        if (s.maxInstances() < 1 || s.maxInstances() > maxInstancesPerFunction) {
            throw new InvalidFunctionSpecException("maxInstances", "maxInstances " + s.maxInstances()
                    + " is out of range; allowed 1 to " + maxInstancesPerFunction);
        }
        if (s.minInstances() < 0 || s.minInstances() > s.maxInstances()) {
            throw new InvalidFunctionSpecException("minInstances", "minInstances " + s.minInstances()
                    + " is out of range; allowed 0 to maxInstances (" + s.maxInstances() + ")");
        }
        if (s.concurrency() < 1 || s.concurrency() > maxConcurrency) {
            throw new InvalidFunctionSpecException("concurrency", "concurrency " + s.concurrency()
                    + " is out of range; allowed 1 to " + maxConcurrency);
        }
        if (spec.mode() == ExecutionMode.RUN && s.minInstances() > 0) {
            throw new InvalidFunctionSpecException("minInstances",
                    "minInstances only applies to hot functions: a run-mode function starts one container per call");
        }
    }

    /**
     * @param name a function name
     * @throws InvalidFunctionSpecException when the name does not match {@link #NAME_PATTERN}
     */
    public static void validateName(String name) {
        if (name == null || name.isBlank()) {
            throw new InvalidFunctionSpecException("name", "name is required");
        }
        if (!NAME_PATTERN.matcher(name).matches()) {
            throw new InvalidFunctionSpecException("name",
                    "name '" + abbreviate(name) + "' is invalid: use 1-63 lowercase letters, digits and '-', "
                            + "starting with a letter and not ending with '-'");
        }
    }

    private static void validateImage(String image) {
        if (image == null || image.isBlank()) {
            throw new InvalidFunctionSpecException("image", "image is required");
        }
        if (image.length() > 255 || !IMAGE_PATTERN.matcher(image).matches()) {
            throw new InvalidFunctionSpecException("image",
                    "image '" + abbreviate(image) + "' is not a valid image reference "
                            + "(expected [registry/]name[:tag][@sha256:digest], lowercase)");
        }
    }

    private void validateEnv(Map<String, String> env) {
        if (env.size() > maxEnvEntries) {
            throw new InvalidFunctionSpecException("env",
                    "env has " + env.size() + " entries; at most " + maxEnvEntries + " are allowed");
        }
        long bytes = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            String key = e.getKey();
            if (key == null || !ENV_NAME_PATTERN.matcher(key).matches()) {
                throw new InvalidFunctionSpecException("env",
                        "env name '" + abbreviate(String.valueOf(key)) + "' is invalid: use letters, digits and '_', "
                                + "not starting with a digit");
            }
            if (key.startsWith(RESERVED_ENV_PREFIX)) {
                throw new InvalidFunctionSpecException("env",
                        "env name '" + key + "' is reserved: names starting with " + RESERVED_ENV_PREFIX
                                + " are set by the platform");
            }
            String value = e.getValue();
            if (value == null) {
                throw new InvalidFunctionSpecException("env", "env value of '" + key + "' must be a string");
            }
            if (value.indexOf('\0') >= 0) {
                throw new InvalidFunctionSpecException("env", "env value of '" + key + "' contains a NUL character");
            }
            bytes += key.length() + value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        if (bytes > maxEnvBytes) {
            throw new InvalidFunctionSpecException("env",
                    "env is " + bytes + " bytes; at most " + maxEnvBytes + " are allowed");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
