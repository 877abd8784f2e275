package io.granda.runtimes;

import io.granda.core.build.BaseImage;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Node.js: {@code handler.js} exporting a function, or a script run per request (docs/runtimes.md), with
 * {@code package.json} installed by {@code npm install --omit=dev}. The shim is {@code node/shim.cjs}. Immutable and
 * thread-safe.
 */
final class NodeRuntime extends SourceRuntime {

    static final String NAME = "node";
    /** The official image, then Debian 12's Node.js 18 and npm 9 built by scripts/build-base-images.sh. */
    static final List<BaseImage> DEFAULT_BASE_IMAGES = List.of(
            new BaseImage("base", List.of("node:20-slim", "granda-base/node:18-bookworm")));

    private static final BuildLogSummary.Picker ERRORS = BuildLogSummary.all(
            // node --check: /app/handler.js:3 / the line / a caret / (blank) / SyntaxError: ...
            BuildLogSummary.blocks(Pattern.compile("^\\S+\\.[cm]?js:\\d+$"),
                    Pattern.compile("^\\w*Error\\b.*:"), 12),
            // npm 9 writes "npm ERR! ...", npm 10 "npm error ..."; where its debug log went says nothing
            BuildLogSummary.matching(Pattern.compile("^npm (ERR!|error) (?!\\s*$|A complete log of this run"
                    + "|\\s+/\\S*_logs/)"), 0));

    NodeRuntime(List<BaseImage> baseImages) {
        super(NAME, Set.of("nodejs", "javascript"),
                "Node.js (handler.js: module.exports = async (request) => ..., or a script reading process.argv[2])",
                "handler.js", Optional.of("package.json"), baseImages, List.of("node/shim.cjs"));
    }

    @Override
    public String failureSummary(String log) {
        return BuildLogSummary.summarize(log, ERRORS);
    }
}
