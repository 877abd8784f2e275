package io.granda.core.build;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One file of a function's source: an immutable value (the content array is not copied on access).
 *
 * @param path    relative path with '/' separators, e.g. {@code handler.py} or {@code lib/util.py}; never absolute, never
 *                containing {@code ..}, checked by {@link FunctionSource}
 * @param content the file's bytes
 */
public record SourceFile(String path, byte[] content) {

    public SourceFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(content, "content");
    }

    /** @return a file with UTF-8 text content */
    public static SourceFile text(String path, String content) {
        return new SourceFile(path, content.getBytes(StandardCharsets.UTF_8));
    }

    /** @return the content decoded as UTF-8 */
    public String contentAsString() {
        return new String(content, StandardCharsets.UTF_8);
    }
}
