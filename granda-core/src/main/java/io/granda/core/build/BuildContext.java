package io.granda.core.build;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The files an image is built from, a {@code Dockerfile} among them: an immutable value (arrays are not copied).
 * Paths are relative, '/'-separated, as in {@link SourceFile}.
 *
 * @param files file contents by path, in the order they go into the build archive
 */
public record BuildContext(Map<String, byte[]> files) {

    /** The build recipe's path in every context. */
    public static final String DOCKERFILE = "Dockerfile";

    public BuildContext {
        Objects.requireNonNull(files, "files");
        if (!files.containsKey(DOCKERFILE)) {
            throw new IllegalArgumentException("a build context needs a " + DOCKERFILE);
        }
        files = Collections.unmodifiableMap(new LinkedHashMap<>(files));
    }

    /** @return the Dockerfile as text */
    public String dockerfile() {
        return new String(files.get(DOCKERFILE), java.nio.charset.StandardCharsets.UTF_8);
    }
}
