package io.granda.runtimes;

import io.granda.core.build.BaseImage;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Python 3: {@code handler.py} with {@code def handle(request)}, or a script run per request (docs/runtimes.md), and
 * {@code requirements.txt} installed into a venv that sees the base image's own packages. The shim is
 * {@code python/shim.py}. Immutable and thread-safe.
 */
final class PythonRuntime extends SourceRuntime {

    static final String NAME = "python";
    /** The official image, then Debian 12's Python 3.11 built by scripts/build-base-images.sh. */
    static final List<BaseImage> DEFAULT_BASE_IMAGES = List.of(
            new BaseImage("base", List.of("python:3.12-slim", "granda-base/python:3.11-bookworm")));

    private static final BuildLogSummary.Picker ERRORS = BuildLogSummary.all(
            // py_compile: File "handler.py", line 3 / the line / a caret / SyntaxError: ...
            BuildLogSummary.blocks(Pattern.compile("^\\s*File \".*\", line \\d+"),
                    Pattern.compile("^\\w*(Error|Exception)\\b.*:|^\\w*Error$"), 8),
            // pip: ERROR: Could not find a version that satisfies the requirement ...
            BuildLogSummary.matching(Pattern.compile("^ERROR: "), 0));

    PythonRuntime(List<BaseImage> baseImages) {
        super(NAME, Set.of("python3", "Python3", "Python2.7"),
                "Python 3 (handler.py: def handle(request), or a script reading sys.argv[1])",
                "handler.py", Optional.of("requirements.txt"), baseImages, List.of("python/shim.py"));
    }

    @Override
    public String failureSummary(String log) {
        return BuildLogSummary.summarize(log, ERRORS);
    }
}
