package io.granda.core.build;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * One image build: an immutable value.
 *
 * @param tag     the tag to give the image, e.g. {@code granda-fn/hello:r3-01m8...}
 * @param context what to build
 * @param labels  labels for the image (owner, function id, revision), so images can be found and removed
 * @param timeout longest the build may take
 * @param network whether the build may reach the network (to install dependencies from a package index); function
 *                containers never have network, builds only when this is true
 */
public record BuildRequest(String tag, BuildContext context, Map<String, String> labels, Duration timeout,
                           boolean network) {

    /**
     * The label Granda's builds put on every image they make, valued with the build's id: how a builder tells its own
     * function images ({@link ImageBuilder#builtImages()}) from any other image.
     */
    public static final String BUILD_ID_LABEL = "io.granda.build";

    public BuildRequest {
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(timeout, "timeout");
        labels = Map.copyOf(Objects.requireNonNullElse(labels, Map.of()));
    }
}
