package io.granda.http.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionSpec;
import io.granda.core.ScalingPolicy;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.LanguageRuntime;
import io.granda.core.build.RuntimeCatalog;
import io.granda.core.build.SourceFile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The JSON shape of a function in the management API, both ways. Parsing is strict and names the offending field,
 * because a typo such as {@code "timeout": 5} silently ignored would deploy a function with the wrong timeout.
 * Not API.
 */
public final class FunctionJson {

    /** Fields a create or update request may carry. */
    static final Set<String> FIELDS = Set.of("name", "description", "image", "mode", "timeoutSeconds", "memoryMb",
            "env", "keepAliveSeconds", "minInstances", "maxInstances", "concurrency", "runtime", "code", "files",
            "dependencies", "private");

    /**
     * A create or update request: the spec, and for a function built from source its source.
     *
     * @param spec   the spec (for a source function its image is empty: Granda builds it)
     * @param source the source, null for a function given as an image
     */
    public record Parsed(FunctionSpec spec, FunctionSource source) {
    }

    /**
     * Reads a request that may describe a function given as an image or as source code.
     *
     * @param body         the parsed body
     * @param nameFromPath the name in the URL for an update, {@code null} for a create
     * @param archive      files from an uploaded archive, or null
     * @param runtimes     the runtimes, to put inline code and dependencies in the right files
     * @return the spec and the source, if any
     * @throws ApiException 400 naming the field that is wrong
     */
    public static Parsed parse(JsonNode body, String nameFromPath, List<SourceFile> archive, RuntimeCatalog runtimes) {
        if (!body.isObject()) {
            throw ApiException.badRequest("invalid_request", null,
                    "request body must be a JSON object, not " + kind(body));
        }
        String runtimeName = optionalString(body, "runtime");
        boolean hasCode = body.hasNonNull("code") || body.hasNonNull("files") || body.hasNonNull("dependencies")
                || archive != null;
        if (runtimeName == null) {
            if (hasCode) {
                throw ApiException.badRequest("invalid_request", "runtime",
                        "runtime is required with code, files, dependencies or an archive");
            }
            return new Parsed(parseSpec(body, nameFromPath), null);
        }
        if (body.hasNonNull("image")) {
            throw ApiException.badRequest("invalid_request", "image",
                    "give either an image, or a runtime with code: not both");
        }
        String mode = optionalString(body, "mode");
        if (mode != null && !mode.equalsIgnoreCase("hot")) {
            throw ApiException.badRequest("invalid_request", "mode",
                    "functions built from source always run hot; mode must be \"hot\" or absent");
        }
        LanguageRuntime runtime = runtimes.require(runtimeName);
        List<SourceFile> files = new ArrayList<>();
        if (archive != null) {
            files.addAll(archive);
        }
        String code = optionalString(body, "code");
        if (code != null) {
            files.removeIf(f -> f.path().equals(runtime.handlerFile()));
            files.add(SourceFile.text(runtime.handlerFile(), code));
        }
        JsonNode more = body.get("files");
        if (more != null && !more.isNull()) {
            if (!more.isObject()) {
                throw ApiException.badRequest("invalid_request", "files",
                        "files must be an object of file paths to text contents, not " + kind(more));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = more.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual()) {
                    throw ApiException.badRequest("invalid_request", "files",
                            "the content of file '" + e.getKey() + "' must be a string, not " + kind(e.getValue()));
                }
                String path = e.getKey();
                files.removeIf(f -> f.path().equals(path));
                files.add(SourceFile.text(path, e.getValue().textValue()));
            }
        }
        String dependencies = optionalString(body, "dependencies");
        if (dependencies != null) {
            String manifest = runtime.manifestFile().orElseThrow(() -> ApiException.badRequest("invalid_request",
                    "dependencies", "runtime " + runtime.name() + " has no dependency manifest"));
            files.removeIf(f -> f.path().equals(manifest));
            files.add(SourceFile.text(manifest, dependencies));
        }
        if (files.isEmpty()) {
            throw ApiException.badRequest("invalid_request", "code",
                    "code is required: inline (code, files) or as an uploaded archive");
        }
        ObjectNode withoutSource = body.deepCopy();
        for (String f : List.of("runtime", "code", "files", "dependencies", "mode")) {
            withoutSource.remove(f);
        }
        withoutSource.put("image", "granda-fn/placeholder:build");
        FunctionSpec spec = parseSpec(withoutSource, nameFromPath).toBuilder().image("")
                .mode(ExecutionMode.HOT).runtime(runtime.name()).build();
        return new Parsed(spec, new FunctionSource(runtime.name(), files));
    }

    private FunctionJson() {
    }

    /**
     * Reads a spec from a request body.
     *
     * @param body         the parsed body
     * @param nameFromPath the name in the URL for an update, {@code null} for a create
     * @return the spec, with defaults for absent optional fields (not yet checked against limits)
     * @throws ApiException 400 naming the field that is missing, of the wrong type or unknown
     */
    public static FunctionSpec parseSpec(JsonNode body, String nameFromPath) {
        if (!body.isObject()) {
            throw ApiException.badRequest("invalid_request", null,
                    "request body must be a JSON object, not " + kind(body));
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw ApiException.badRequest("invalid_request", field,
                        "unknown field '" + field + "'; known fields are " + String.join(", ", FIELDS.stream().sorted().toList()));
            }
        }
        String name = optionalString(body, "name");
        if (nameFromPath != null) {
            if (name != null && !name.equals(nameFromPath)) {
                throw ApiException.badRequest("invalid_request", "name",
                        "name '" + name + "' in the body differs from '" + nameFromPath + "' in the URL; a function cannot be renamed");
            }
            name = nameFromPath;
        } else if (name == null) {
            throw ApiException.badRequest("invalid_request", "name", "name is required");
        }
        String image = optionalString(body, "image");
        if (image == null) {
            throw ApiException.badRequest("invalid_request", "image", "image is required");
        }
        FunctionSpec.Builder spec = FunctionSpec.builder(name).image(image);
        String description = optionalString(body, "description");
        if (description != null) {
            spec.description(description);
        }
        String mode = optionalString(body, "mode");
        if (mode != null) {
            spec.mode(parseMode(mode));
        }
        Long timeout = optionalWholeNumber(body, "timeoutSeconds", "a positive whole number of seconds");
        if (timeout != null) {
            if (timeout <= 0) {
                throw ApiException.badRequest("invalid_request", "timeoutSeconds",
                        "timeoutSeconds must be a positive whole number of seconds, was " + timeout);
            }
            spec.timeout(Duration.ofSeconds(timeout));
        }
        Long memory = optionalWholeNumber(body, "memoryMb", "a whole number of MiB");
        if (memory != null) {
            if (memory <= 0 || memory > Integer.MAX_VALUE) {
                throw ApiException.badRequest("invalid_request", "memoryMb",
                        "memoryMb must be a positive whole number of MiB, was " + memory);
            }
            spec.memoryMb(memory.intValue());
        }
        JsonNode env = body.get("env");
        if (env != null && !env.isNull()) {
            spec.env(parseEnv(env));
        }
        spec.scaling(parseScaling(body));
        JsonNode isPrivate = body.get("private");
        if (isPrivate != null && !isPrivate.isNull()) {
            if (!isPrivate.isBoolean()) {
                throw ApiException.badRequest("invalid_request", "private",
                        "private must be true or false, not " + kind(isPrivate));
            }
            spec.isPrivate(isPrivate.booleanValue());
        }
        return spec.build();
    }

    private static ScalingPolicy parseScaling(JsonNode body) {
        ScalingPolicy scaling = ScalingPolicy.DEFAULT;
        Long keepAlive = optionalWholeNumber(body, "keepAliveSeconds", "a whole number of seconds");
        if (keepAlive != null) {
            if (keepAlive <= 0) {
                throw ApiException.badRequest("invalid_request", "keepAliveSeconds",
                        "keepAliveSeconds must be a positive whole number of seconds, was " + keepAlive);
            }
            scaling = scaling.withKeepAlive(Duration.ofSeconds(keepAlive));
        }
        Long min = optionalWholeNumber(body, "minInstances", "a whole number");
        if (min != null) {
            scaling = scaling.withMinInstances(clampToInt(min));
        }
        Long max = optionalWholeNumber(body, "maxInstances", "a whole number");
        if (max != null) {
            scaling = scaling.withMaxInstances(clampToInt(max));
        }
        Long concurrency = optionalWholeNumber(body, "concurrency", "a whole number");
        if (concurrency != null) {
            scaling = scaling.withConcurrency(clampToInt(concurrency));
        }
        return scaling;
    }

    /** Out-of-range values stay out of range (so the limits name them) instead of wrapping around. */
    private static int clampToInt(long value) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, value));
    }

    private static ExecutionMode parseMode(String mode) {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "run" -> ExecutionMode.RUN;
            case "hot" -> ExecutionMode.HOT;
            default -> throw ApiException.badRequest("invalid_request", "mode",
                    "mode must be \"run\" or \"hot\", was \"" + mode + "\"");
        };
    }

    private static Map<String, String> parseEnv(JsonNode env) {
        if (!env.isObject()) {
            throw ApiException.badRequest("invalid_request", "env",
                    "env must be an object of string values, not " + kind(env));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = env.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw ApiException.badRequest("invalid_request", "env",
                        "env value of '" + e.getKey() + "' must be a string, not " + kind(e.getValue()));
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }

    private static String optionalString(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("invalid_request", field, field + " must be a string, not " + kind(v));
        }
        return v.textValue();
    }

    private static Long optionalWholeNumber(JsonNode body, String field, String what) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.longValue();
        }
        if (v.isFloatingPointNumber() && v.canConvertToLong() && v.doubleValue() == Math.rint(v.doubleValue())) {
            return v.longValue();
        }
        throw ApiException.badRequest("invalid_request", field,
                field + " must be " + what + ", not " + (v.isNumber() ? v.asText() : kind(v)));
    }

    static String kind(JsonNode v) {
        return switch (v.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    /**
     * @param f       a function revision
     * @param baseUrl scheme://host[:port] of this server as users reach it
     * @return the function as the API shows it
     */
    public static ObjectNode render(DeployedFunction f, String baseUrl) {
        FunctionSpec s = f.spec();
        ObjectNode n = Json.object();
        n.put("name", f.name());
        n.put("tenant", f.tenant());
        n.put("private", s.isPrivate());
        n.put("description", s.description());
        n.put("image", s.image());
        n.put("mode", s.mode().name().toLowerCase(Locale.ROOT));
        n.put("timeoutSeconds", timeoutSeconds(s.timeout()));
        n.put("memoryMb", s.memoryMb());
        ObjectNode env = n.putObject("env");
        s.env().forEach(env::put);
        n.put("kind", s.fromSource() ? "code" : "image");
        if (s.fromSource()) {
            n.put("runtime", s.runtime());
        }
        n.put("keepAliveSeconds", s.scaling().keepAlive().toSeconds());
        n.put("minInstances", s.scaling().minInstances());
        n.put("maxInstances", s.scaling().maxInstances());
        n.put("concurrency", s.scaling().concurrency());
        n.put("revision", f.revision());
        n.put("url", baseUrl + Routes.functionPath(f));
        n.put("path", Routes.functionPath(f));
        n.put("id", f.id());
        n.put("createdAt", f.createdAt().toString());
        n.put("updatedAt", f.updatedAt().toString());
        return n;
    }

    private static long timeoutSeconds(Duration timeout) {
        // Specs made through the Java API may carry sub-second timeouts; show them rounded up, never as 0.
        return Math.max(1, (timeout.toMillis() + 999) / 1000);
    }
}
