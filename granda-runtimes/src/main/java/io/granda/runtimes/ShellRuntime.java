package io.granda.runtimes;

import io.granda.core.build.BaseImage;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Shell: {@code handler.sh}, run by bash once per request by the exec shim (as Go functions are), the payload as
 * {@code $1} and on stdin, stdout the answer (docs/runtimes.md). The exec shim is compiled in a {@code build} stage,
 * the script runs in the {@code run} image. Immutable and thread-safe.
 */
final class ShellRuntime extends SourceRuntime {

    static final String NAME = "shell";

    private static final BuildLogSummary.Picker ERRORS = BuildLogSummary.all(
            // bash -n: handler.sh: line 3: syntax error near unexpected token `fi'
            BuildLogSummary.matching(Pattern.compile("^\\S*handler\\.sh: line \\d+: "), 0));

    /**
     * @param baseImages the {@code build} image (a Go toolchain, for the exec shim) and the {@code run} image (with bash)
     */
    ShellRuntime(List<BaseImage> baseImages) {
        super(NAME, Set.of("bash", "sh"),
                "Shell (handler.sh: run by bash per request with the payload as $1 and on stdin, writing stdout)",
                "handler.sh", Optional.empty(), baseImages, GoRuntime.EXEC_SHIM);
    }

    /** @return the default images: Go's build images, and Debian 12 (which has bash) to run */
    static List<BaseImage> defaultBaseImages(BaseImage goBuild) {
        return List.of(new BaseImage("build", goBuild.candidates()),
                new BaseImage("run", List.of("debian:bookworm-slim", "granda-base/debian:bookworm")));
    }

    @Override
    public String failureSummary(String log) {
        return BuildLogSummary.summarize(log, ERRORS);
    }
}
