package io.granda.core.build;

/**
 * How big a function's source may be: an immutable value.
 *
 * @param maxFiles      most files (default 1,000)
 * @param maxTotalBytes largest sum of the files' sizes, uncompressed (default 20 MiB)
 * @param maxUploadBytes largest archive upload, compressed (default 10 MiB)
 */
public record SourceLimits(int maxFiles, long maxTotalBytes, int maxUploadBytes) {

    /** The defaults. */
    public static final SourceLimits DEFAULTS = new SourceLimits(1000, 20L * 1024 * 1024, 10 * 1024 * 1024);

    public SourceLimits {
        if (maxFiles < 1 || maxTotalBytes < 1 || maxUploadBytes < 1) {
            throw new IllegalArgumentException("source limits must be positive");
        }
    }
}
