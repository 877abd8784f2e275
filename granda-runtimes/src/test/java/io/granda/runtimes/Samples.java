package io.granda.runtimes;

import io.granda.core.build.BaseImage;
import io.granda.core.build.BuildContext;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.SourceFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** The sample functions under test resource {@code samples/}, and their build contexts written out to run on the host. */
final class Samples {

    private Samples() {
    }

    /** @return the runtime of that name, with its default images */
    static LanguageRuntime runtime(String name) {
        return Runtimes.defaults().require(name);
    }

    /** @return the files of sample {@code samples/<name>/} as a source of the runtime */
    static FunctionSource source(String runtime, String name) {
        try {
            Path dir = Path.of(Samples.class.getResource("samples/" + name).toURI());
            List<SourceFile> files = new ArrayList<>();
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                    files.add(new SourceFile(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p)));
                }
            }
            return new FunctionSource(runtime, files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return one source file */
    static FunctionSource source(String runtime, String path, String content) {
        return new FunctionSource(runtime, List.of(SourceFile.text(path, content)));
    }

    /**
     * Writes what the image would hold in its function directory: the build context without the Dockerfile (the
     * function's files, and the shim under .granda/).
     *
     * @return dir
     */
    static Path writeFunctionDirectory(LanguageRuntime runtime, FunctionSource source, Path dir) throws IOException {
        runtime.check(source);
        Map<String, String> images = new HashMap<>();
        for (BaseImage base : runtime.baseImages()) {
            images.put(base.role(), base.candidates().getFirst());
        }
        BuildContext context = runtime.buildContext(source, images);
        for (Map.Entry<String, byte[]> file : context.files().entrySet()) {
            if (file.getKey().equals(BuildContext.DOCKERFILE) || file.getKey().equals(SourceRuntime.DOCKERIGNORE)) {
                continue;
            }
            Path target = dir.resolve(file.getKey());
            Files.createDirectories(target.getParent());
            Files.write(target, file.getValue());
        }
        return dir;
    }

    /** @return the command's absolute path on this host's PATH, if it is there */
    static Optional<Path> onPath(String command) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(entry, command);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
