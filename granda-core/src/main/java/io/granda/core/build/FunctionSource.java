package io.granda.core.build;

import io.granda.core.InvalidFunctionSpecException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A function given as source code: a runtime and the files to build, an immutable value. The files are checked here
 * once for every way they can arrive (inline code, an archive): relative paths only, no {@code ..}, no duplicates, no
 * file Granda writes itself ({@code Dockerfile}, {@code .dockerignore}, {@code .granda/}), and the size limits of
 * {@link SourceLimits}.
 *
 * @param runtime the runtime's name, e.g. {@code python}; resolved by the runtime catalog
 * @param files   the files, the runtime's handler and dependency manifest among them
 */
public record FunctionSource(String runtime, List<SourceFile> files) {

    /** Files Granda writes into every build itself. */
    private static final Set<String> RESERVED = Set.of("Dockerfile", ".dockerignore");

    /** Path segments: no empty, '.' or '..' segment, no backslash or NUL, no control characters. */
    private static final Pattern SEGMENT = Pattern.compile("[^/\\\\\\x00-\\x1f\\x7f]+");

    public FunctionSource {
        Objects.requireNonNull(runtime, "runtime");
        files = List.copyOf(Objects.requireNonNull(files, "files"));
    }

    /**
     * Checks the files against the limits.
     *
     * @param limits size bounds
     * @return this source
     * @throws InvalidFunctionSpecException naming field {@code files} when a path escapes the build directory, repeats
     *                                      or is reserved
     * @throws SourceTooLargeException      when the files are too many or too large
     */
    public FunctionSource validate(SourceLimits limits) {
        if (files.isEmpty()) {
            throw new InvalidFunctionSpecException("code", "the source has no files");
        }
        if (files.size() > limits.maxFiles()) {
            throw new SourceTooLargeException("the source has " + files.size() + " files; at most "
                    + limits.maxFiles() + " are allowed");
        }
        long total = 0;
        Set<String> seen = new HashSet<>();
        for (SourceFile f : files) {
            checkPath(f.path());
            if (RESERVED.contains(f.path()) || f.path().startsWith(".granda/")) {
                throw new InvalidFunctionSpecException("files", "file '" + f.path() + "' is reserved: Granda writes "
                        + "the build recipe (Dockerfile, .dockerignore) and its runtime files (.granda/) itself");
            }
            if (!seen.add(f.path().toLowerCase(Locale.ROOT))) {
                throw new InvalidFunctionSpecException("files", "the source has '" + f.path() + "' twice");
            }
            total += f.content().length;
        }
        if (total > limits.maxTotalBytes()) {
            throw new SourceTooLargeException("the source is " + total + " bytes; at most "
                    + limits.maxTotalBytes() + " are allowed");
        }
        return this;
    }

    /**
     * @throws InvalidFunctionSpecException when the path is absolute, escapes with {@code ..}, or has odd characters
     */
    public static void checkPath(String path) {
        if (path.isEmpty() || path.length() > 255) {
            throw new InvalidFunctionSpecException("files", "a file path must have 1 to 255 characters");
        }
        if (path.startsWith("/")) {
            throw new InvalidFunctionSpecException("files", "file path '" + path + "' is absolute; paths must be "
                    + "relative to the function's directory");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.equals("..") || segment.equals(".") || segment.isEmpty() || !SEGMENT.matcher(segment).matches()) {
                throw new InvalidFunctionSpecException("files", "file path '" + printable(path) + "' is not allowed: "
                        + "use relative paths without '.', '..', empty parts, backslashes or control characters");
            }
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return b.toString();
    }

    /** @return the file at this path, if any */
    public Optional<SourceFile> file(String path) {
        return files.stream().filter(f -> f.path().equals(path)).findFirst();
    }

    /** @return the sum of the files' sizes */
    public long totalBytes() {
        long total = 0;
        for (SourceFile f : files) {
            total += f.content().length;
        }
        return total;
    }

    /** @return a copy with one more file, replacing any at the same path */
    public FunctionSource with(SourceFile file) {
        List<SourceFile> out = new ArrayList<>(files.size() + 1);
        for (SourceFile f : files) {
            if (!f.path().equals(file.path())) {
                out.add(f);
            }
        }
        out.add(file);
        return new FunctionSource(runtime, out);
    }
}
