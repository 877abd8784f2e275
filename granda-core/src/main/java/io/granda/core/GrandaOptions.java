package io.granda.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Platform-wide settings of a {@link Granda}: an immutable value with safe, useful defaults ({@link #DEFAULTS}).
 *
 * @param limits            bounds every function spec must respect
 * @param maxPayloadBytes   largest request payload accepted (default 6 MiB, as AWS Lambda)
 * @param maxOutputBytes    largest function output returned; more is cut and flagged (default 6 MiB)
 * @param maxLogTailBytes   how much of the end of a call's log is kept with its result (default 4 KiB)
 * @param shutdownGrace     how long {@link Granda#close()} waits for calls under way (default 30 s)
 * @param recorderCapacity  invocation records buffered before callers wait for the store (default 100,000)
 * @param recorderBatchSize most records written per store transaction (default 1,000)
 * @param pool              the warm pool of hot functions
 * @param build             builds of functions given as source
 * @param metering          retention of invocation records and aggregates, and prices
 */
public record GrandaOptions(
        FunctionLimits limits,
        int maxPayloadBytes,
        int maxOutputBytes,
        int maxLogTailBytes,
        Duration shutdownGrace,
        int recorderCapacity,
        int recorderBatchSize,
        PoolOptions pool,
        BuildOptions build,
        MeteringOptions metering) {

    /** 6 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

    /** The defaults. */
    public static final GrandaOptions DEFAULTS = new GrandaOptions(FunctionLimits.DEFAULTS, DEFAULT_MAX_PAYLOAD_BYTES,
            DEFAULT_MAX_PAYLOAD_BYTES, 4096, Duration.ofSeconds(30), 100_000, 1_000, PoolOptions.DEFAULTS,
            BuildOptions.DEFAULTS, MeteringOptions.DEFAULTS);

    public GrandaOptions {
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(build, "build");
        Objects.requireNonNull(metering, "metering");
        if (maxPayloadBytes < 1 || maxOutputBytes < 1 || maxLogTailBytes < 1) {
            throw new IllegalArgumentException("payload, output and log limits must be positive");
        }
        if (shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("shutdownGrace must not be negative");
        }
        if (recorderCapacity < 1 || recorderBatchSize < 1) {
            throw new IllegalArgumentException("recorder capacity and batch size must be positive");
        }
    }

    /** @return a copy with other limits */
    public GrandaOptions withLimits(FunctionLimits newLimits) {
        return new GrandaOptions(newLimits, maxPayloadBytes, maxOutputBytes, maxLogTailBytes, shutdownGrace,
                recorderCapacity, recorderBatchSize, pool, build, metering);
    }

    /** @return a copy with another payload limit */
    public GrandaOptions withMaxPayloadBytes(int bytes) {
        return new GrandaOptions(limits, bytes, maxOutputBytes, maxLogTailBytes, shutdownGrace, recorderCapacity,
                recorderBatchSize, pool, build, metering);
    }

    /** @return a copy with other pool options */
    public GrandaOptions withPool(PoolOptions newPool) {
        return new GrandaOptions(limits, maxPayloadBytes, maxOutputBytes, maxLogTailBytes, shutdownGrace,
                recorderCapacity, recorderBatchSize, newPool, build, metering);
    }

    /** @return a copy with other build options */
    public GrandaOptions withBuild(BuildOptions newBuild) {
        return new GrandaOptions(limits, maxPayloadBytes, maxOutputBytes, maxLogTailBytes, shutdownGrace,
                recorderCapacity, recorderBatchSize, pool, newBuild, metering);
    }

    /** @return a copy with another shutdown grace */
    public GrandaOptions withShutdownGrace(Duration grace) {
        return new GrandaOptions(limits, maxPayloadBytes, maxOutputBytes, maxLogTailBytes, grace, recorderCapacity,
                recorderBatchSize, pool, build, metering);
    }

    /** @return a copy with other metering options */
    public GrandaOptions withMetering(MeteringOptions newMetering) {
        return new GrandaOptions(limits, maxPayloadBytes, maxOutputBytes, maxLogTailBytes, shutdownGrace,
                recorderCapacity, recorderBatchSize, pool, build, newMetering);
    }
}
