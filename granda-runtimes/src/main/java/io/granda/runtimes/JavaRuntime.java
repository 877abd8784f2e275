package io.granda.runtimes;

import io.granda.core.build.BaseImage;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Java: {@code Handler.java} with {@code public static String handle(String)} or {@code byte[] handle(byte[])}
 * (docs/runtimes.md), compiled with {@code javac --release 17} together with any other {@code .java} files and the
 * shim ({@code java/GrandaShim.java}); no build tool. Immutable and thread-safe.
 */
final class JavaRuntime extends SourceRuntime {

    static final String NAME = "java";
    /** The official image, then Debian 12's OpenJDK 17 built by scripts/build-base-images.sh. */
    static final List<BaseImage> DEFAULT_BASE_IMAGES = List.of(
            new BaseImage("base", List.of("eclipse-temurin:21-jdk", "granda-base/openjdk:17-bookworm")));

    private static final BuildLogSummary.Picker ERRORS = BuildLogSummary.all(
            // Handler.java:3: error: ';' expected / the line / the caret
            BuildLogSummary.matching(Pattern.compile("^\\S+\\.java:\\d+: error: "), 2),
            // error: invalid flag ..., the shim's check (error: class Handler has neither ...), "2 errors"
            BuildLogSummary.matching(Pattern.compile("^(error: |\\d+ errors?$)"), 0));

    JavaRuntime(List<BaseImage> baseImages) {
        super(NAME, Set.of("java17", "java21"),
                "Java 17+ (Handler.java: public static String handle(String input))",
                "Handler.java", Optional.empty(), baseImages, List.of("java/GrandaShim.java"));
    }

    @Override
    public String failureSummary(String log) {
        return BuildLogSummary.summarize(log, ERRORS);
    }
}
