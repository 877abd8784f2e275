package io.granda.core.build;

import io.granda.core.InvalidFunctionSpecException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A language runtime functions can be written in: how its source becomes an image that speaks the hot protocol
 * (docs/hot-functions.md). Implementations are immutable and thread-safe. See docs/runtimes.md for each runtime's
 * handler convention.
 */
public interface LanguageRuntime {

    /** @return the runtime's name in the API, e.g. {@code python} */
    String name();

    /** @return other names accepted for it, compared without case (e.g. {@code Python3}, {@code Go1.7}) */
    Set<String> aliases();

    /** @return a one-line description, e.g. "Python 3 (handler.py: def handle(request))" */
    String description();

    /** @return where inline code goes: the handler's file, e.g. {@code handler.py} */
    String handlerFile();

    /** @return the dependency manifest's file name, e.g. {@code requirements.txt}; empty when the runtime has none */
    Optional<String> manifestFile();

    /** @return the base images its builds start from, by role */
    List<BaseImage> baseImages();

    /**
     * Checks a source before building: the handler file is there, nothing the runtime needs is missing.
     *
     * @throws InvalidFunctionSpecException naming the field that is wrong
     */
    void check(FunctionSource source);

    /**
     * @param source     the function's source, checked
     * @param baseImages the image chosen for each role of {@link #baseImages()}
     * @return the Dockerfile and files to build the function's image from
     */
    BuildContext buildContext(FunctionSource source, Map<String, String> baseImages);

    /**
     * Picks the lines that say why a build failed (the compiler's or interpreter's own message) out of its log.
     *
     * @param log the whole build log
     * @return a short message, at most a few lines
     */
    String failureSummary(String log);
}
