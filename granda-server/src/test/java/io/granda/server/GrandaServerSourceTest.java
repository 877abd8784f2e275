package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Functions from source code, end to end: the server builds real images on the Docker engine from the runtimes'
 * base images (the official ones where a registry answers, else those of scripts/build-base-images.sh), runs them hot,
 * and answers as the original Granda's "Code" flow did. One server for the class: builds are slow, calls are not.
 */
class GrandaServerSourceTest {

    @TempDir
    static Path dataDir;
    private static String ownerId;
    private static GrandaServer server;
    private static ServerHarness http;

    @BeforeAll
    static void start() {
        ownerId = "test-src-" + UUID.randomUUID().toString().substring(0, 8);
        server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key", ServerHarness.ADMIN_KEY,
                "--port", "0", "--host", "127.0.0.1",
                "--data-dir", dataDir.toString(), "--owner-id", ownerId, "--start-timeout-seconds", "30",
                // Unused built images go at once, so that their removal can be seen here.
                "--unused-image-grace-minutes", "0"}, Map.of()));
        http = new ServerHarness(server.port());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            List<String> names = new java.util.ArrayList<>();
            http.get("/functions").json().get("items").forEach(f -> names.add(f.get("name").asText()));
            server.close();
            // The images the tests built: remove them so repeated runs do not fill the disk.
            for (String id : Docker.run("images", "-q", "--filter", "label=io.granda.owner=" + ownerId).split("\\s+")) {
                if (!id.isBlank()) {
                    try {
                        Docker.run("rmi", "-f", id);
                    } catch (IllegalStateException ignored) {
                        // Shared layers may still be in use by another image.
                    }
                }
            }
        }
        for (String id : Docker.containersOf(ownerId)) {
            Docker.run("rm", "-f", id);
        }
    }

    private static ServerHarness.Reply deploy(String name, String runtime, String code) {
        ObjectNode body = ServerHarness.JSON.createObjectNode();
        body.put("name", name);
        body.put("runtime", runtime);
        body.put("code", code);
        return http.createFunction(body.toString());
    }

    private static String urlOf(String name) {
        return http.get("/functions/" + name).json().get("path").asText();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            python | def handle(request):\\n    return "Hello, " + request.text + "!"\\n
            node   | module.exports = async (request) => "Hello, " + request.text + "!";\\n
            go     | package main\\n\\nimport (\\n\\t"fmt"\\n\\t"os"\\n)\\n\\nfunc main() {\\n\\tfmt.Printf("Hello, %s!", os.Args[1])\\n}\\n
            java   | public class Handler {\\n    public static String handle(String input) {\\n        return "Hello, " + input + "!";\\n    }\\n}\\n
            shell  | #!/bin/bash\\nprintf 'Hello, %s!' "$1"\\n
            """)
    void eachRuntimeRunsAHelloWorldThatReadsItsInputColdThenWarm(String runtime, String escapedCode) {
        String code = escapedCode.replace("\\n", "\n").replace("\\t", "\t");
        String name = "hello-" + runtime;
        ServerHarness.Reply created = deploy(name, runtime, code);
        assertEquals(201, created.status(), created.body());
        JsonNode fn = created.json();
        assertEquals("code", fn.get("kind").asText());
        assertEquals(runtime, fn.get("runtime").asText());
        assertEquals("hot", fn.get("mode").asText());
        assertEquals("succeeded", fn.get("build").get("status").asText());
        assertTrue(fn.get("build").get("log").asText().contains("built granda-fn/" + name), fn.get("build").toString());

        ServerHarness.Reply cold = http.call(fn.get("path").asText(), "World");
        assertEquals(200, cold.status(), cold.body());
        assertEquals("Hello, World!", cold.body().strip());
        assertEquals("true", cold.header("X-Granda-Cold"));
        ServerHarness.Reply warm = http.call(fn.get("path").asText(), "again");
        assertEquals(200, warm.status(), warm.body());
        assertEquals("Hello, again!", warm.body().strip());
        assertEquals("false", warm.header("X-Granda-Cold"));

        JsonNode source = http.get("/functions/" + name + "/source").json();
        assertEquals(runtime, source.get("runtime").asText());
        assertEquals(code, source.get("files").get(0).get("content").asText());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            python | def handle(request:\\n    return 1\\n                                  | SyntaxError
            go     | package main\\n\\nfunc main() {\\n\\tundefinedThing()\\n}\\n            | undefined: undefinedThing
            java   | public class Handler {\\n    public static String handle(String s) { return 1; }\\n}\\n | error:
            """)
    void aCompileOrSyntaxErrorIs422WithTheCompilersMessageAndNothingIsRegistered(String runtime, String escapedCode,
                                                                                  String expected) {
        String name = "broken-" + runtime;
        ServerHarness.Reply r = deploy(name, runtime, escapedCode.replace("\\n", "\n").replace("\\t", "\t"));
        assertEquals(422, r.status(), r.body());
        assertEquals("build_failed", r.json().get("error").asText());
        assertTrue(r.json().get("message").asText().contains(expected), r.body());
        assertTrue(r.json().get("log").asText().contains(expected), "the whole log is kept");
        assertEquals(404, http.get("/functions/" + name).status(), "nothing is registered");
    }

    @Test
    void updatingTheCodeMakesTheNextCallRunTheNewCodeAndNeverTheOld() {
        String name = "evolving";
        assertEquals(201, deploy(name, "python", "def handle(request):\n    return 'v1'\n").status());
        String path = urlOf(name);
        assertEquals("v1", http.call(path, "").body());

        ServerHarness.Reply failed = http.send("PUT", "/functions/" + name, "application/json",
                "{\"runtime\":\"python\",\"code\":\"def handle(request:\\n\"}");
        assertEquals(422, failed.status(), failed.body());
        assertEquals("v1", http.call(path, "").body(), "a failed build leaves the previous revision serving");

        ServerHarness.Reply updated = http.send("PUT", "/functions/" + name, "application/json",
                "{\"runtime\":\"python\",\"code\":\"def handle(request):\\n    return 'v2'\\n\"}");
        assertEquals(200, updated.status(), updated.body());
        assertEquals(2, updated.json().get("revision").asLong());
        for (int i = 0; i < 5; i++) {
            ServerHarness.Reply r = http.call(path, "");
            assertEquals("v2", r.body(), "call " + i + " after the update");
            assertEquals("2", r.header("X-Granda-Revision"));
        }

        // Settings only: a new revision with the same code and image, no build.
        ServerHarness.Reply settings = http.send("PUT", "/functions/" + name, "application/json",
                "{\"timeoutSeconds\":20,\"description\":\"same code\"}");
        assertEquals(200, settings.status(), settings.body());
        assertEquals(3, settings.json().get("revision").asLong());
        assertEquals(20, settings.json().get("timeoutSeconds").asInt());
        assertEquals("code", settings.json().get("kind").asText());
        assertEquals(updated.json().get("image").asText(), settings.json().get("image").asText());
        assertEquals("v2", http.call(path, "").body());
        assertTrue(http.get("/functions/" + name + "/source").body().contains("v2"), "the source is kept");
    }

    @Test
    void theImagesOfReplacedRevisionsAndDeletedFunctionsAreRemovedAndOthersKept() throws InterruptedException {
        String name = "tidy";
        ServerHarness.Reply v1 = deploy(name, "shell", "#!/bin/bash\nprintf v1\n");
        assertEquals(201, v1.status(), v1.body());
        String image1 = v1.json().get("image").asText();
        String path = urlOf(name);
        assertEquals("v1", http.call(path, "").body());
        assertTrue(imageExists(image1), image1);
        // A function given as an image: the same kind of deploy and delete never touches it.
        assertEquals(201, http.createFunction("{\"name\":\"given\",\"image\":\"granda-hot-echo\",\"mode\":\"hot\"}")
                .status());

        ServerHarness.Reply v2 = http.send("PUT", "/functions/" + name, "application/json",
                "{\"runtime\":\"shell\",\"code\":\"#!/bin/bash\\nprintf v2\\n\"}");
        assertEquals(200, v2.status(), v2.body());
        String image2 = v2.json().get("image").asText();
        assertNotEquals(image1, image2);
        assertEquals("v2", http.call(path, "").body());
        // Removed by the sweep that follows the update, or, while an instance of revision 1 still ran from it, by a
        // later one (asked for here rather than waited for).
        awaitGone(image1);
        assertTrue(imageExists(image2), "the current revision's image stays: " + image2);
        assertEquals("v2", http.call(path, "").body());

        assertEquals(204, http.send("DELETE", "/functions/" + name, null, null).status());
        assertEquals(204, http.send("DELETE", "/functions/given", null, null).status());
        awaitGone(image2);
        server.granda().removeUnusedImages();
        assertTrue(imageExists("granda-hot-echo"), "an image a user named is never removed");
    }

    private static void awaitGone(String image) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (imageExists(image)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("image " + image + " was not removed within 60 s; built images: "
                        + Docker.run("images", "--filter", "label=io.granda.owner=" + ownerId));
            }
            Thread.sleep(500);
            server.granda().removeUnusedImages();
        }
    }

    private static boolean imageExists(String image) {
        return !Docker.run("images", "-q", image).isBlank();
    }

    @Test
    void aPythonRequirementTheBuildCanHaveIsInstalledAndImportable() {
        ObjectNode body = ServerHarness.JSON.createObjectNode();
        body.put("name", "with-deps");
        body.put("runtime", "python");
        body.put("code", "import requests\n\ndef handle(request):\n    return 'requests ' + requests.__version__\n");
        body.put("dependencies", "requests>=2\n");
        ServerHarness.Reply created = http.createFunction(body.toString());
        assertEquals(201, created.status(), created.body());
        ServerHarness.Reply r = http.call(created.json().get("path").asText(), "");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.body().startsWith("requests 2."), r.body());
    }

    /**
     * A node dependency from npm's registry (reachable from this machine's builds, which have the host's network): the
     * package.json given as "dependencies" is installed by the build and the module is importable by the handler.
     */
    @Test
    void aNodeDependencyFromPackageJsonIsInstalledByTheBuild() {
        ObjectNode body = ServerHarness.JSON.createObjectNode();
        body.put("name", "node-deps");
        body.put("runtime", "node");
        body.put("code", "const isNumber = require('is-number');\n"
                + "module.exports = (request) => request.text + ' is a number: ' + isNumber(request.text);\n");
        body.put("dependencies", "{\"name\": \"node-deps\", \"dependencies\": {\"is-number\": \"7.0.0\"}}\n");
        ServerHarness.Reply created = http.createFunction(body.toString());
        assertEquals(201, created.status(), created.body());
        assertEquals("42 is a number: true", http.call(created.json().get("path").asText(), "42").body());
        assertEquals("x is a number: false", http.call(created.json().get("path").asText(), "x").body());
    }

    @Test
    void theOriginalCodeFlowBuildsAPlainGoMainThatReadsItsArgument() {
        String code = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n"
                + "\tfmt.Println(\"tweeted: \" + os.Args[1])\n}\n";
        ServerHarness.Reply r = http.send("POST", "/createCodeFunc", "application/x-www-form-urlencoded",
                "name=tweet-go&description=Send+a+tweet&runtime=Go1.7&time=15&code="
                        + java.net.URLEncoder.encode(code, StandardCharsets.UTF_8));
        assertEquals(200, r.status(), r.body());
        assertTrue(r.json().get("status").asBoolean());
        ServerHarness.Reply call = http.call(r.json().get("path").asText(), "Hello #devopsdaysaustin");
        assertEquals(200, call.status(), call.body());
        assertEquals("tweeted: Hello #devopsdaysaustin\n", call.body());

        ServerHarness.Reply bad = http.send("POST", "/createCodeFunc", "application/x-www-form-urlencoded",
                "name=tweet-bad&runtime=Go1.7&code=" + java.net.URLEncoder.encode("package main\nfunc main() { x }\n",
                        StandardCharsets.UTF_8));
        assertEquals(422, bad.status(), bad.body());
        assertTrue(!bad.json().get("status").asBoolean());
        assertTrue(bad.json().get("message").asText().contains("main.go"), bad.body());
    }

    @Test
    void anArchiveUploadBuildsSeveralFiles() throws Exception {
        byte[] zip = zip(Map.of("fn/handler.py", "from lib.greet import greet\n\ndef handle(request):\n"
                + "    return greet(request.text)\n", "fn/lib/__init__.py", "", "fn/lib/greet.py",
                "def greet(who):\n    return 'Hi ' + who\n"));
        ServerHarness.Reply r = multipart("{\"name\":\"zipped\",\"runtime\":\"python\"}", zip);
        assertEquals(201, r.status(), r.body());
        assertEquals("Hi you", http.call(r.json().get("path").asText(), "you").body());
    }

    @Test
    void anUploadWithAPathTraversalEntryOrOverTheSizeLimitIsRefused() throws Exception {
        ServerHarness.Reply traversal = multipart("{\"name\":\"escape\",\"runtime\":\"python\"}",
                zip(Map.of("handler.py", "def handle(r):\n    return 1\n", "../x", "evil")));
        assertEquals(400, traversal.status(), traversal.body());
        assertTrue(traversal.json().get("message").asText().contains("../x"), traversal.body());

        ServerHarness.Reply inline = http.createFunction("{\"name\":\"escape\",\"runtime\":\"python\","
                + "\"files\":{\"../../etc/cron.d/x\":\"evil\"},\"code\":\"def handle(r):\\n    return 1\\n\"}");
        assertEquals(400, inline.status(), inline.body());
        assertEquals("files", inline.json().get("field").asText());

        byte[] huge = new byte[11 * 1024 * 1024];
        new java.util.Random(1).nextBytes(huge); // incompressible: the zip stays over the 10 MiB upload limit
        ServerHarness.Reply tooBig = multipart("{\"name\":\"escape\",\"runtime\":\"python\"}",
                zipBytes(Map.of("handler.py", "def handle(r):\n    return 1\n".getBytes(StandardCharsets.UTF_8),
                        "blob.bin", huge)));
        assertEquals(413, tooBig.status(), tooBig.body());
        assertEquals("payload_too_large", tooBig.json().get("error").asText(), "Granda's own JSON answer");
        assertEquals(404, http.get("/functions/escape").status());

        // Under the upload limit but over the call payload limit (6 MiB): accepted, the upload has its own limit.
        byte[] big = new byte[8 * 1024 * 1024];
        new java.util.Random(2).nextBytes(big);
        ServerHarness.Reply accepted = multipart("{\"name\":\"big-upload\",\"runtime\":\"python\"}",
                zipBytes(Map.of("handler.py", ("import os\n\ndef handle(r):\n"
                        + "    return str(os.path.getsize('blob.bin'))\n").getBytes(StandardCharsets.UTF_8),
                        "blob.bin", big)));
        assertEquals(201, accepted.status(), accepted.body());
        assertEquals(String.valueOf(big.length), http.call(accepted.json().get("path").asText(), "").body());
    }

    @Test
    void unknownRuntimesAndMissingCodeAreRefused() {
        ServerHarness.Reply unknown = deploy("cobol-fn", "cobol", "DISPLAY 'HI'.");
        assertEquals(400, unknown.status());
        assertEquals("runtime", unknown.json().get("field").asText());
        assertTrue(unknown.json().get("message").asText().contains("python"), "the known runtimes are listed");
        ServerHarness.Reply both = http.createFunction(
                "{\"name\":\"both\",\"runtime\":\"python\",\"image\":\"granda/hello\",\"code\":\"x\"}");
        assertEquals(400, both.status());
        ServerHarness.Reply noCode = http.createFunction("{\"name\":\"nocode\",\"runtime\":\"python\"}");
        assertEquals(400, noCode.status());
        JsonNode runtimes = http.get("/runtimes").json().get("items");
        assertEquals(5, runtimes.size());
    }

    @Test
    void theBuildLogStreamsWhileTheBuildRuns() throws Exception {
        HttpRequest request = http.request("/functions?stream=true")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"streamed\",\"runtime\":\"shell\","
                        + "\"code\":\"#!/bin/bash\\necho streamed\\n\"}"))
                .build();
        HttpResponse<java.util.stream.Stream<String>> r = HttpClient.newHttpClient().send(request,
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        List<String> lines = r.body().toList();
        assertTrue(lines.size() > 3, lines.toString());
        assertTrue(lines.getFirst().startsWith("{\"log\":"), lines.getFirst());
        JsonNode last = ServerHarness.JSON.readTree(lines.getLast());
        assertEquals(201, last.get("status").asInt(), lines.getLast());
        assertEquals("streamed", last.get("function").get("name").asText());
        assertEquals("streamed\n", http.call(last.get("function").get("path").asText(), "").body());
    }

    private static byte[] zip(Map<String, String> files) throws IOException {
        Map<String, byte[]> bytes = new java.util.LinkedHashMap<>();
        files.forEach((k, v) -> bytes.put(k, v.getBytes(StandardCharsets.UTF_8)));
        return zipBytes(bytes);
    }

    private static byte[] zipBytes(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static ServerHarness.Reply multipart(String spec, byte[] archive) throws Exception {
        String boundary = "granda-test-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"spec\"\r\n"
                + "Content-Type: application/json\r\n\r\n" + spec + "\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"fn.zip\"\r\n"
                + "Content-Type: application/zip\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(archive);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest request = http.request("/functions")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                .build();
        HttpResponse<String> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        return new ServerHarness.Reply(r.statusCode(), r.body(), r);
    }
}
