package io.granda.core.build;

import io.granda.core.BackendUnavailableException;

import java.util.List;
import java.util.function.Consumer;

/**
 * Builds function images from a {@link BuildContext}. Implementations must be thread-safe; the facade bounds how
 * many builds run at once.
 */
public interface ImageBuilder {

    /**
     * Builds and tags an image, streaming the build's output line by line as it comes.
     *
     * @param request what to build
     * @param log     receives each line of the build's output, in order, on the building thread
     * @return the image
     * @throws BuildFailedException        when the build itself failed (a compile error, a missing dependency, a
     *                                     step that exited non-zero): the function's fault, with the build's own
     *                                     message and the whole log
     * @throws BackendUnavailableException when the builder cannot be reached or failed on its own
     */
    BuiltImage build(BuildRequest request, Consumer<String> log);

    /**
     * Removes an image a build made, best effort: never throws.
     *
     * @param tag the image's tag
     */
    default void removeImage(String tag) {
    }

    /**
     * The images this builder made that are still kept, tagged as their builds named them. Granda removes those no
     * function revision uses (see {@link io.granda.core.BuildOptions#removeUnusedImages()}); a builder that cannot
     * list its images returns none, and then nothing is removed.
     *
     * @return the images, in no particular order; never throws (a builder that cannot be reached lists none)
     */
    default List<StoredImage> builtImages() {
        return List.of();
    }
}
