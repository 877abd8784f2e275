package io.granda.core.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * An image a backend has made ready to run: an immutable value.
 *
 * @param image    the reference as given
 * @param imageId  the backend's id of the image (e.g. a content digest)
 * @param pulled   true when it had to be pulled
 * @param pullTime time the pull took, zero when it was present
 */
public record PreparedImage(String image, String imageId, boolean pulled, Duration pullTime) {

    public PreparedImage {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(pullTime, "pullTime");
    }
}
