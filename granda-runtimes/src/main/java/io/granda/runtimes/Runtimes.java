package io.granda.runtimes;

import io.granda.core.build.BaseImage;
import io.granda.core.build.RuntimeCatalog;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The language runtimes functions given as source code can use: python, node, go, java and shell (docs/runtimes.md).
 * Every image they build runs the runtime's shim, which serves the hot protocol (docs/hot-functions.md) and calls the
 * function's code per request.
 *
 * <p>Each runtime builds from base images, best first: the official image, then the local equivalent that
 * scripts/build-base-images.sh builds from Debian 12 packages for machines that reach no image registry. Both are
 * meant to work with the same Dockerfile.
 *
 * <p>Stateless; the catalogs it returns are immutable and thread-safe.
 */
public final class Runtimes {

    private Runtimes() {
    }

    /** @return the five runtimes with their default base images */
    public static RuntimeCatalog defaults() {
        return withBaseImages(Map.of());
    }

    /**
     * The five runtimes, with some base images replaced.
     *
     * <p>A key is a runtime's name, for a runtime with one base image ({@code python}, {@code node}, {@code java}), or
     * {@code <runtime>.<role>} ({@code python.base}, {@code go.build}, {@code go.run}, {@code shell.build},
     * {@code shell.run}); names compare without case. Each value replaces that image's candidates, best first. The
     * shell runtime's build image (a Go toolchain for its exec shim) follows {@code go.build} unless
     * {@code shell.build} is given.
     *
     * @param overrides candidate images by key
     * @return the runtimes
     * @throws IllegalArgumentException naming the key when a key names no runtime or role, a bare runtime name is
     *                                  given for a runtime with several images, or a list is empty or has something
     *                                  that is not an image reference in it
     */
    public static RuntimeCatalog withBaseImages(Map<String, List<String>> overrides) {
        Objects.requireNonNull(overrides, "overrides");
        Map<String, List<BaseImage>> defaults = new LinkedHashMap<>();
        defaults.put(PythonRuntime.NAME, PythonRuntime.DEFAULT_BASE_IMAGES);
        defaults.put(NodeRuntime.NAME, NodeRuntime.DEFAULT_BASE_IMAGES);
        defaults.put(GoRuntime.NAME, GoRuntime.DEFAULT_BASE_IMAGES);
        defaults.put(JavaRuntime.NAME, JavaRuntime.DEFAULT_BASE_IMAGES);
        defaults.put(ShellRuntime.NAME, ShellRuntime.defaultBaseImages(GoRuntime.DEFAULT_BASE_IMAGES.getFirst()));

        Map<String, List<String>> byKey = normalise(overrides, defaults);
        List<BaseImage> go = apply(GoRuntime.NAME, defaults.get(GoRuntime.NAME), byKey);
        // The shell runtime builds its exec shim with whatever Go toolchain the go runtime uses.
        BaseImage goBuild = go.stream().filter(b -> b.role().equals("build")).findFirst().orElseThrow();
        defaults.put(ShellRuntime.NAME, ShellRuntime.defaultBaseImages(goBuild));

        return new RuntimeCatalog(List.of(
                new PythonRuntime(apply(PythonRuntime.NAME, defaults.get(PythonRuntime.NAME), byKey)),
                new NodeRuntime(apply(NodeRuntime.NAME, defaults.get(NodeRuntime.NAME), byKey)),
                new GoRuntime(go),
                new JavaRuntime(apply(JavaRuntime.NAME, defaults.get(JavaRuntime.NAME), byKey)),
                new ShellRuntime(apply(ShellRuntime.NAME, defaults.get(ShellRuntime.NAME), byKey))));
    }

    /** The overrides keyed {@code <runtime>.<role>} in lower case, each checked. */
    private static Map<String, List<String>> normalise(Map<String, List<String>> overrides,
                                                       Map<String, List<BaseImage>> defaults) {
        TreeSet<String> known = new TreeSet<>();
        defaults.forEach((runtime, images) -> {
            if (images.size() == 1) {
                known.add(runtime);
            }
            images.forEach(b -> known.add(runtime + "." + b.role()));
        });
        Map<String, List<String>> out = new LinkedHashMap<>();
        overrides.forEach((rawKey, images) -> {
            String name = Objects.requireNonNull(rawKey, "an override's key").trim().toLowerCase(Locale.ROOT);
            List<BaseImage> roles = defaults.get(name);
            if (roles != null && roles.size() > 1) {
                throw new IllegalArgumentException("base images '" + rawKey + "': runtime " + name + " has images for "
                        + String.join(" and ", roles.stream().map(b -> name + "." + b.role()).toList())
                        + "; name one of them");
            }
            String key = roles == null ? name : name + "." + roles.getFirst().role();
            if (!known.contains(key)) {
                throw new IllegalArgumentException("base images '" + rawKey + "': no such runtime or role; known are "
                        + String.join(", ", known));
            }
            if (images == null || images.isEmpty()) {
                throw new IllegalArgumentException("base images '" + rawKey + "': give at least one image");
            }
            for (String image : images) {
                if (image == null || !image.matches("[\\x21-\\x7e]+")) {
                    throw new IllegalArgumentException("base images '" + rawKey + "': '" + image
                            + "' is not an image reference");
                }
            }
            if (out.put(key, List.copyOf(images)) != null) {
                throw new IllegalArgumentException("base images '" + rawKey + "' are given twice");
            }
        });
        return out;
    }

    private static List<BaseImage> apply(String runtime, List<BaseImage> defaults, Map<String, List<String>> byKey) {
        List<BaseImage> out = new ArrayList<>(defaults.size());
        for (BaseImage base : defaults) {
            List<String> override = byKey.get(runtime + "." + base.role());
            out.add(override == null ? base : new BaseImage(base.role(), override));
        }
        return out;
    }
}
