package io.granda.http;

import io.granda.core.Granda;
import io.granda.testkit.FakeBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web console's files as {@link ConsoleService} serves them: content types, caching, the security headers, a 404
 * for anything else (path tricks included), and the files themselves: everything they load is served, and nothing
 * comes from another origin.
 */
class ConsoleServiceTest {

    private static HttpTestServer http;

    @BeforeAll
    static void start() {
        http = new HttpTestServer(Granda.builder().backend(new FakeBackend()).build(), GrandaHttpConfig.DEFAULTS);
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
            /,                            text/html; charset=utf-8
            /console,                     text/html; charset=utf-8
            /console/,                    text/html; charset=utf-8
            /console/assets/console.css,  text/css; charset=utf-8
            /console/assets/app.js,       text/javascript; charset=utf-8
            /console/assets/api.js,       text/javascript; charset=utf-8
            /console/assets/dom.js,       text/javascript; charset=utf-8
            /console/assets/editor.js,    text/javascript; charset=utf-8
            /console/assets/chart.js,     text/javascript; charset=utf-8
            /console/assets/samples.js,   text/javascript; charset=utf-8
            /console/assets/favicon.svg,  image/svg+xml
            """)
    void servesEachFileWithItsContentTypeAnETagAndNoSniffing(String path, String type) {
        HttpTestServer.Reply r = http.get(path);
        assertEquals(200, r.status(), path);
        assertEquals(type, r.header("Content-Type"));
        assertTrue(r.header("ETag").matches("\"[0-9a-f]{32}\""), r.header("ETag"));
        assertEquals("no-cache", r.header("Cache-Control"));
        assertEquals("nosniff", r.header("X-Content-Type-Options"));
        assertTrue(r.body().length > 100, path);
    }

    @Test
    void theLandingPageAndTheConsoleAreTheirOwnPages() {
        String landing = http.get("/").text();
        String console = http.get("/console").text();
        assertTrue(landing.contains("self-hosted serverless platform"), landing);
        assertTrue(landing.contains("href=\"/console\""), "the landing page links into the console");
        assertTrue(console.contains("<script type=\"module\" src=\"/console/assets/app.js\">"), console);
        assertEquals(console, http.get("/console/").text());
    }

    @Test
    void pagesForbidEveryOtherOriginAndFraming() {
        for (String page : List.of("/", "/console")) {
            HttpTestServer.Reply r = http.get(page);
            String csp = r.header("Content-Security-Policy");
            assertNotNull(csp, page);
            assertTrue(csp.startsWith("default-src 'none';"), csp);
            assertTrue(csp.contains("script-src 'self';") && csp.contains("style-src 'self';")
                    && csp.contains("connect-src 'self';") && csp.contains("frame-ancestors 'none'"), csp);
            assertFalse(csp.contains("http") || csp.contains("*") || csp.contains("unsafe"), csp);
            assertEquals("DENY", r.header("X-Frame-Options"));
            assertEquals("no-referrer", r.header("Referrer-Policy"));
        }
    }

    @Test
    void aBrowserWithTheFileGets304UntilItChanges() throws URISyntaxException {
        HttpTestServer.Reply first = http.get("/console/assets/app.js");
        String etag = first.header("ETag");
        for (String ifNoneMatch : List.of(etag, "W/" + etag, "\"other\", " + etag, "*")) {
            HttpTestServer.Reply again = http.send(HttpRequest.newBuilder(new URI(http.base() + "/console/assets/app.js"))
                    .header("If-None-Match", ifNoneMatch).build());
            assertEquals(304, again.status(), ifNoneMatch);
            assertEquals(0, again.body().length);
            assertEquals(etag, again.header("ETag"));
        }
        HttpTestServer.Reply stale = http.send(HttpRequest.newBuilder(new URI(http.base() + "/console/assets/app.js"))
                .header("If-None-Match", "\"0123456789abcdef0123456789abcdef\"").build());
        assertEquals(200, stale.status());
        assertFalse(etag.equals(http.get("/console/assets/api.js").header("ETag")), "each file has its own ETag");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/console/assets/nope.js", "/console/assets/", "/console/assets/index.html",
            "/console/assets/console.html", "/console/assets/ConsoleService.class", "/console/index.html",
            "/console/nope", "/console/assets/app.js/x", "/index.html"})
    void anythingElseIsAJson404(String path) {
        HttpTestServer.Reply r = http.get(path);
        assertEquals(404, r.status(), path);
        assertEquals("not_found", r.json().get("error").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/console/../../x", "/console/assets/../../../../etc/passwd",
            "/console/assets/..%2f..%2f..%2fetc%2fpasswd", "/console/assets/%2e%2e/%2e%2e/io/granda/http/ConsoleService.class",
            "/console/assets/%2e%2e%2fConsoleService.class", "/console/assets/..%5c..%5cConsoleService.class",
            "/console/assets/%2e%2e%2f%2e%2e%2fconsole%2fapp.js", "/console/assets//etc/passwd",
            "/console/assets/app.js%00.html"})
    void noPathReachesAnythingButTheListedFiles(String rawPath) {
        String answer = rawGet(rawPath);
        String status = answer.substring(0, answer.indexOf("\r\n"));
        assertTrue(status.matches("HTTP/1\\.1 40[04] .*"), rawPath + " -> " + status);
        assertFalse(answer.contains("root:") || answer.contains("CAFEBABE") || answer.contains("\u00ca\u00fe\u00ba\u00be"),
                rawPath);
    }

    @Test
    void everythingThePagesLoadIsServedAndEveryFileIsListed() throws IOException {
        Set<String> referenced = new TreeSet<>();
        Pattern assetRef = Pattern.compile("/console/assets/([\\w.-]+)");
        Pattern moduleImport = Pattern.compile("from '\\./([\\w.-]+)'");
        for (String file : ConsoleService.FILES) {
            String text = resource(file);
            for (Pattern p : List.of(assetRef, moduleImport)) {
                Matcher m = p.matcher(text);
                while (m.find()) {
                    referenced.add(m.group(1));
                }
            }
        }
        assertFalse(referenced.isEmpty());
        for (String file : referenced) {
            assertTrue(ConsoleService.FILES.contains(file), file + " is loaded but not served");
            assertEquals(200, http.get("/console/assets/" + file).status(), file);
        }
        assertEquals(new TreeSet<>(ConsoleService.FILES), filesInResourceDirectory(),
                "every file in " + ConsoleService.RESOURCE_DIR + " is served, and only those");
    }

    @Test
    void noFileLoadsAnythingFromAnotherOriginOrRunsInlineCode() {
        Pattern external = Pattern.compile("(?i)(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}[/\"' ]");
        for (String file : ConsoleService.FILES) {
            String text = resource(file).replace("http://www.w3.org/2000/svg", "");
            Matcher m = external.matcher(text);
            List<String> found = new ArrayList<>();
            while (m.find()) {
                found.add(m.group());
            }
            assertEquals(List.of(), found, file + " names another origin");
            if (file.endsWith(".html")) {
                assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)").matcher(text).find(), file + ": inline script");
                assertFalse(Pattern.compile("\\sstyle=|<style|\\son[a-z]+=").matcher(text).find(),
                        file + ": inline style or handler (the CSP forbids them)");
            }
        }
    }

    private static String resource(String file) {
        try (InputStream in = ConsoleService.class.getClassLoader()
                .getResourceAsStream(ConsoleService.RESOURCE_DIR + file)) {
            assertNotNull(in, file);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Set<String> filesInResourceDirectory() throws IOException {
        URL dir = ConsoleService.class.getClassLoader().getResource(ConsoleService.RESOURCE_DIR);
        assertNotNull(dir);
        assertEquals("file", dir.getProtocol(), "the tests read the module's own classes directory");
        try (Stream<Path> files = Files.list(Path.of(URI.create(dir.toString())))) {
            return new TreeSet<>(files.map(p -> p.getFileName().toString()).toList());
        }
    }

    /** A request sent byte for byte, so that no client tidies the path first; the answer's head and body. */
    private static String rawGet(String rawPath) {
        try (Socket s = new Socket("127.0.0.1", http.server.port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + rawPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.append((char) b);
            }
            Matcher length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(head);
            byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : new byte[0];
            return head + new String(body, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
