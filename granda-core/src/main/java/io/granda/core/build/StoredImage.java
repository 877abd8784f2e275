package io.granda.core.build;

import java.time.Instant;
import java.util.Objects;

/**
 * An image a builder made that is still kept where functions run from: what Granda looks at to remove the images no
 * function uses any more. An immutable value.
 *
 * @param tag     its tag, as the build request named it
 * @param created when the image was made
 */
public record StoredImage(String tag, Instant created) {

    public StoredImage {
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(created, "created");
    }
}
