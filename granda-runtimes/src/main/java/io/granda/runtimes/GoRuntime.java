package io.granda.runtimes;

import io.granda.core.build.BaseImage;
import io.granda.core.build.FunctionSource;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Go: the original Granda's Go functions, a {@code package main} reading {@code os.Args[1]} (or stdin) and writing its
 * answer to stdout (docs/runtimes.md). Built static in the {@code build} image, it runs in the {@code run} image under
 * the exec shim ({@code go/execshim}), which runs it once per request. Immutable and thread-safe.
 */
final class GoRuntime extends SourceRuntime {

    static final String NAME = "go";
    /** The official images, then Debian 12's Go 1.19 and Debian 12 built by scripts/build-base-images.sh. */
    static final List<BaseImage> DEFAULT_BASE_IMAGES = List.of(
            new BaseImage("build", List.of("golang:1.22", "granda-base/golang:1.19-bookworm")),
            new BaseImage("run", List.of("debian:bookworm-slim", "granda-base/debian:bookworm")));
    /** The exec shim's files, which the shell runtime uses too. */
    static final List<String> EXEC_SHIM = List.of("go/execshim/go.mod", "go/execshim/main.go");

    private static final BuildLogSummary.Picker ERRORS = BuildLogSummary.all(
            // # function / ./main.go:3:5: undefined: x
            BuildLogSummary.matching(Pattern.compile("^(# \\S+$|\\S+\\.go:\\d+(:\\d+)?: )"), 0),
            // the go command's own: go: module lookup disabled by GOPROXY=off, go: errors parsing go.mod, ...
            BuildLogSummary.matching(Pattern.compile("^(go: (?!creating new go\\.mod|to add module requirements"
                    + "|finding module for package|downloading )|\\s*note: module requires Go)"), 0));

    GoRuntime(List<BaseImage> baseImages) {
        super(NAME, Set.of("golang", "Go1.7", "Go1.6", "Go1.5"),
                "Go (main.go: package main reading os.Args[1] or stdin and writing stdout, run per request)",
                "main.go", Optional.of("go.mod"), baseImages, EXEC_SHIM);
    }

    /** Any {@code .go} file at the top will do: the package is built as a whole, whatever its files are named. */
    @Override
    boolean hasHandler(FunctionSource source) {
        return source.files().stream().anyMatch(f -> !f.path().contains("/") && f.path().endsWith(".go"));
    }

    @Override
    String handlerRequirement() {
        return "main.go (or another .go file)";
    }

    @Override
    public String failureSummary(String log) {
        return BuildLogSummary.summarize(log, ERRORS);
    }
}
