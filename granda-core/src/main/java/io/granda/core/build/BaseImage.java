package io.granda.core.build;

import java.util.List;
import java.util.Objects;

/**
 * A base image a runtime builds from, with the images that can play it, best first: an immutable value. The first
 * candidate present or pullable is used, so a configured official image (e.g. {@code python:3.12-slim}) can fall back
 * to a locally built equivalent where no registry is reachable.
 *
 * @param role       what the image is for in the runtime's Dockerfile, e.g. {@code base}, {@code build}, {@code run}
 * @param candidates image references, best first
 */
public record BaseImage(String role, List<String> candidates) {

    public BaseImage {
        Objects.requireNonNull(role, "role");
        candidates = List.copyOf(candidates);
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("base image '" + role + "' needs at least one candidate");
        }
    }
}
