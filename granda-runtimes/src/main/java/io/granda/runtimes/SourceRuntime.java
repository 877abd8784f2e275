package io.granda.runtimes;

import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.build.BaseImage;
import io.granda.core.build.BuildContext;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.SourceFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the runtimes of this module share: a Dockerfile template and shim files kept as resources under
 * {@code io/granda/runtimes/<runtime>/}, the function's files at the root of the build context with the shims under
 * {@code .granda/}, and the checks every source gets. Subclasses say which files and which log lines are theirs.
 * Immutable and thread-safe.
 */
abstract class SourceRuntime implements LanguageRuntime {

    /** The build context's (and image's) directory for the runtime's own files; no function file may be there. */
    static final String RESERVED_DIR = ".granda";
    /** Keeps the Dockerfile itself out of the function's directory in the image. */
    static final String DOCKERIGNORE = ".dockerignore";

    /** An image reference: no whitespace or control character, which would let it add lines to a Dockerfile. */
    private static final Pattern IMAGE_REFERENCE = Pattern.compile("[\\x21-\\x7e]+");

    private final String name;
    private final Set<String> aliases;
    private final String description;
    private final String handlerFile;
    private final Optional<String> manifestFile;
    private final List<BaseImage> baseImages;
    private final DockerfileTemplate template;
    private final Map<String, byte[]> shimFiles;

    /**
     * @param name          the runtime's name; its Dockerfile template is resource {@code io/granda/runtimes/<name>/Dockerfile}
     * @param baseImages    the base images by role; each role is a {@code {{role}}} placeholder of the template
     * @param shimResources the shim's files as resources under {@code io/granda/runtimes/}, e.g. {@code python/shim.py};
     *                      each goes into the context under {@code .granda/}, without its first directory
     *                      ({@code .granda/shim.py})
     */
    SourceRuntime(String name, Set<String> aliases, String description, String handlerFile,
                  Optional<String> manifestFile, List<BaseImage> baseImages, List<String> shimResources) {
        this.name = name;
        this.aliases = Set.copyOf(aliases);
        this.description = description;
        this.handlerFile = handlerFile;
        this.manifestFile = manifestFile;
        this.baseImages = List.copyOf(baseImages);
        for (BaseImage base : this.baseImages) {
            base.candidates().forEach(image -> checkImage(base.role(), image));
        }
        this.template = new DockerfileTemplate(name + "/Dockerfile", new String(resource(name + "/Dockerfile"),
                StandardCharsets.UTF_8));
        Map<String, byte[]> shims = new LinkedHashMap<>();
        for (String path : shimResources) {
            shims.put(RESERVED_DIR + "/" + path.substring(path.indexOf('/') + 1), resource(path));
        }
        this.shimFiles = Map.copyOf(shims);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Set<String> aliases() {
        return aliases;
    }

    @Override
    public final String description() {
        return description;
    }

    @Override
    public final String handlerFile() {
        return handlerFile;
    }

    @Override
    public final Optional<String> manifestFile() {
        return manifestFile;
    }

    @Override
    public final List<BaseImage> baseImages() {
        return baseImages;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Refuses files under {@code .granda/} (the runtime's own files go there), a {@code Dockerfile} or
     * {@code .dockerignore} at the top (the build's own), and a source without the handler file.
     *
     * @throws InvalidFunctionSpecException naming field {@code files}
     */
    @Override
    public void check(FunctionSource source) {
        for (SourceFile file : source.files()) {
            String first = file.path().split("/", 2)[0];
            if (first.toLowerCase(Locale.ROOT).equals(RESERVED_DIR)) {
                throw new InvalidFunctionSpecException("files", "file '" + file.path() + "' is in " + RESERVED_DIR
                        + "/, which is reserved for the runtime's own files; move or rename it");
            }
            if (file.path().equals(BuildContext.DOCKERFILE) || file.path().equals(DOCKERIGNORE)) {
                throw new InvalidFunctionSpecException("files", "file '" + file.path() + "' is not allowed at the top"
                        + " of a " + name + " function's source: Granda writes the build's own; to build from a"
                        + " Dockerfile of yours, build the image and give it instead of source code");
            }
        }
        if (!hasHandler(source)) {
            throw new InvalidFunctionSpecException("files", "a " + name + " function needs " + handlerRequirement()
                    + " at the top of its source (" + description + "); the source has "
                    + String.join(", ", source.files().stream().map(SourceFile::path).limit(10).toList())
                    + (source.files().size() > 10 ? ", ..." : ""));
        }
    }

    /** @return whether the source has what the runtime calls; by default the handler file */
    boolean hasHandler(FunctionSource source) {
        return source.file(handlerFile).isPresent();
    }

    /** @return what {@link #hasHandler} asks for, in words */
    String handlerRequirement() {
        return handlerFile;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The context holds the Dockerfile, a {@code .dockerignore} that keeps it out of the image, the shim under
     * {@code .granda/} and the function's files as they are. A role missing from {@code baseImages} gets its first
     * candidate.
     *
     * @throws IllegalArgumentException when an image reference has whitespace or control characters in it
     */
    @Override
    public BuildContext buildContext(FunctionSource source, Map<String, String> baseImages) {
        Objects.requireNonNull(source, "source");
        Map<String, String> images = new LinkedHashMap<>();
        for (BaseImage base : this.baseImages) {
            String image = baseImages.getOrDefault(base.role(), base.candidates().getFirst());
            checkImage(base.role(), image);
            images.put(base.role(), image);
        }
        String dockerfile = template.render(images, path -> has(source, path));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(BuildContext.DOCKERFILE, dockerfile.getBytes(StandardCharsets.UTF_8));
        files.put(DOCKERIGNORE, (BuildContext.DOCKERFILE + "\n" + DOCKERIGNORE + "\n").getBytes(StandardCharsets.UTF_8));
        files.putAll(shimFiles);
        for (SourceFile file : source.files()) {
            files.putIfAbsent(file.path(), file.content());
        }
        return new BuildContext(files);
    }

    private static boolean has(FunctionSource source, String path) {
        if (path.endsWith("/")) {
            return source.files().stream().anyMatch(f -> f.path().startsWith(path));
        }
        return source.file(path).isPresent();
    }

    private static void checkImage(String role, String image) {
        if (image == null || !IMAGE_REFERENCE.matcher(image).matches()) {
            throw new IllegalArgumentException("the " + role + " image '" + image + "' is not an image reference");
        }
    }

    /** @return the bytes of a resource under {@code io/granda/runtimes/} */
    static byte[] resource(String path) {
        try (InputStream in = SourceRuntime.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("resource io/granda/runtimes/" + path + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource io/granda/runtimes/" + path, e);
        }
    }

    @Override
    public String toString() {
        return name + " runtime " + baseImages;
    }
}
