package io.granda.core.build;

import java.time.Duration;
import java.util.Objects;

/**
 * An image a build made: an immutable value.
 *
 * @param tag     its tag
 * @param imageId the builder's id of it
 * @param took    how long the build took
 */
public record BuiltImage(String tag, String imageId, Duration took) {

    public BuiltImage {
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(took, "took");
    }
}
