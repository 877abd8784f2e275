package io.granda.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The web console (docs/console.md) in a real headless Chromium, driven by Selenium through Debian's chromedriver,
 * against a running server with a real Docker engine: signing in with an API key (a wrong one refused, a revoked one
 * sent back to the sign-in page, signing out), the landing page, creating functions from an image and from code (the
 * build log streams), invoking one from its page and finding the call in its history and logs, an invalid form,
 * deleting with a confirmation, a network failure, and the Access page (tenants, creating a key whose secret shows
 * once, a tenant key seeing its own tenant only, revoking with a confirmation, reader keys, an invoker key made for
 * named functions and refused at sign-in with a reason). Each page is also photographed at a
 * desktop and at a phone width (target/screenshots/), where nothing may overflow horizontally. One server and one
 * browser for the class; nothing is downloaded (the driver and the browser are given by path, Selenium Manager is
 * never asked).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Dimension DESKTOP = new Dimension(1280, 900);
    private static final Dimension PHONE = new Dimension(375, 812);
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** A source build from the local base images takes seconds; a cold machine may take longer. */
    private static final Duration BUILD_WAIT = Duration.ofMinutes(4);
    private static final Path SCREENSHOTS = Path.of(System.getProperty("basedir", "."), "target", "screenshots");

    @TempDir
    static Path dataDir;
    @TempDir
    static Path profileDir;
    private static String ownerId;
    private static GrandaServer server;
    private static ServerHarness http;
    private static ChromeDriverService service;
    private static ChromeDriver driver;

    /** A failed test leaves a picture of the page as it was: target/screenshots/FAILED-<test>.png. */
    @RegisterExtension
    static final TestWatcher PICTURE_ON_FAILURE = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (driver == null) {
                return;
            }
            try {
                Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(),
                        SCREENSHOTS.resolve("FAILED-" + context.getRequiredTestMethod().getName() + ".png"),
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException | RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
    };

    @BeforeAll
    static void start() throws IOException {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "the console's browser tests need Debian's chromium and chromium-driver (" + CHROMIUM + ", "
                    + CHROMEDRIVER + "): apt-get install -y --no-install-recommends chromium chromium-driver"
                    + " (./granda test does it as root)";
            if (System.getenv("CI") != null) {
                fail(why);
            }
            Assumptions.abort(why);
        }
        Files.createDirectories(SCREENSHOTS);
        ownerId = "test-console-" + UUID.randomUUID().toString().substring(0, 8);
        server = GrandaServer.start(ServerConfig.from(new String[] {"--admin-key", ServerHarness.ADMIN_KEY,
                "--port", "0", "--host", "127.0.0.1",
                "--data-dir", dataDir.toString(), "--owner-id", ownerId, "--start-timeout-seconds", "30"}, Map.of()));
        http = new ServerHarness(server.port());

        // The driver and the browser by path: Selenium then never runs Selenium Manager (which would download).
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profileDir.toAbsolutePath(),
                "--window-size=" + DESKTOP.width + "," + DESKTOP.height);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(WAIT);
        setViewport(DESKTOP);
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (server != null) {
            server.close();
            for (String id : Docker.run("images", "-q", "--filter", "label=io.granda.owner=" + ownerId).split("\\s+")) {
                if (!id.isBlank()) {
                    try {
                        Docker.run("rmi", "-f", id);
                    } catch (IllegalStateException ignored) {
                        // a layer shared with another image
                    }
                }
            }
        }
        if (ownerId != null) {
            for (String id : Docker.containersOf(ownerId)) {
                Docker.run("rm", "-f", id);
            }
        }
    }

    /** No script error, no CSP violation, no failed asset: only the API's own refusals may be in the console. */
    @AfterEach
    void theBrowserConsoleHasNoErrors() {
        List<String> errors = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            boolean apiRefusal = e.getMessage().contains("Failed to load resource: the server responded with a status of 4")
                    && !e.getMessage().contains("/console/assets/");
            if (e.getLevel().intValue() >= Level.SEVERE.intValue() && !apiRefusal) {
                errors.add(e.getMessage());
            }
        }
        assertEquals(List.of(), errors, "errors in the browser's console");
    }

    @Test
    @Order(1)
    void theLandingPageSaysWhatGrandaIsAndLeadsIntoTheConsole() {
        open("/");
        assertTrue(driver.findElement(By.tagName("h1")).getText().contains("one URL each"));
        assertTrue(driver.findElement(By.className("lead")).getText().contains("self-hosted serverless")
                || driver.findElement(By.className("lead")).getText().contains("unique URL"));
        screenshots("landing");
        driver.findElement(By.id("open-console")).click();
        signIn(ServerHarness.ADMIN_KEY);
        wait(WAIT).until(ExpectedConditions.or(ExpectedConditions.presenceOfElementLocated(By.id("no-functions")),
                ExpectedConditions.presenceOfElementLocated(By.id("function-list"))));
        assertTrue(driver.getCurrentUrl().endsWith("/console"), driver.getCurrentUrl());
        assertEquals("default · admin (configured admin key)", driver.findElement(By.id("identity")).getText());
        assertEquals("online", wait(WAIT).until(d -> {
            String s = d.findElement(By.id("server-status")).getText();
            return s.equals("…") ? null : s;
        }));
    }

    @Test
    @Order(0)
    void theConsoleAsksForAKeyAndRefusesAWrongOne() {
        open("/console");
        WebElement key = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-key")));
        assertEquals("password", key.getDomAttribute("type"), "the key is not shown as it is typed");
        assertTrue(driver.findElements(By.id("function-list")).isEmpty(), "nothing is shown before signing in");
        assertFalse(driver.findElement(By.id("sign-out")).isDisplayed());
        screenshots("sign-in");

        key.sendKeys("gk_wrongkey_" + "0".repeat(32));
        driver.findElement(By.id("signin-submit")).click();
        WebElement error = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#signin-form [data-field='key'] .field-error")));
        assertTrue(error.getText().contains("That key was refused"), error.getText());
        assertTrue(driver.findElements(By.id("function-list")).isEmpty());
        assertEquals(null, js("return sessionStorage.getItem('granda.apiKey');"), "a refused key is not kept");
        screenshots("sign-in-refused");

        // Not even a page of the console shows without a key.
        open("/console#/new");
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-key")));
        assertTrue(driver.findElements(By.id("image-form")).isEmpty());
    }

    @Test
    @Order(2)
    void anInvalidFormShowsTheApisMessageNextToTheFieldItNames() {
        open("/console#/new");
        WebElement form = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("image-form")));
        type(form, "name", "Hello World");
        type(form, "image", "granda/hello");
        form.findElement(By.id("image-submit")).click();

        WebElement error = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#image-form [data-field='name'] .field-error")));
        assertTrue(error.getText().contains("name 'Hello World' is invalid"), error.getText());
        assertEquals("true", form.findElement(By.name("name")).getDomAttribute("aria-invalid"));
        assertFalse(driver.findElement(By.id("banner")).isDisplayed(), "a field's error is not a banner");
        assertEquals(0, http.get("/functions").json().get("items").size(), "nothing was created");
        screenshots("create-invalid-name");

        // An error that names no field goes to the banner: the name is taken.
        assertEquals(201, http.createFunction("{\"name\":\"taken\",\"image\":\"granda/hello\"}").status());
        type(form, "name", "taken");
        form.findElement(By.id("image-submit")).click();
        WebElement banner = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("banner")));
        assertTrue(banner.getText().contains("taken"), banner.getText());
        assertTrue(driver.findElement(By.cssSelector("#image-form [data-field='name'] .field-error")).getText().isEmpty(),
                "the earlier field error is cleared");
        assertEquals(204, http.send("DELETE", "/functions/taken", null, null).status());
        // The browser's console is read after each test (no errors allowed): it does see the API's refusals.
        List<String> seen = driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::getMessage)
                .toList();
        assertTrue(seen.stream().anyMatch(m -> m.contains("status of 400")), seen.toString());
        assertTrue(seen.stream().anyMatch(m -> m.contains("status of 409")), seen.toString());
    }

    @Test
    @Order(3)
    void aFunctionFromAnImageIsCreatedInvokedAndItsCallIsInTheHistory() {
        open("/console#/new");
        WebElement form = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("image-form")));
        type(form, "name", "hello-img");
        type(form, "description", "Greets whoever the payload names");
        type(form, "image", "granda/hello");
        new Select(form.findElement(By.name("mode"))).selectByValue("run");
        type(form, "timeoutSeconds", "10");
        type(form, "memoryMb", "128");
        form.findElement(By.id("image-submit")).click();

        WebElement url = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("created-url")));
        JsonNode fn = http.get("/functions/hello-img").json();
        assertEquals(fn.get("url").asText(), url.getText());
        assertEquals("image", fn.get("kind").asText());
        assertEquals("Greets whoever the payload names", fn.get("description").asText());

        driver.findElement(By.id("open-function")).click();
        WebElement body = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("invoke-body")));
        assertEquals("hello-img", driver.findElement(By.id("function-name")).getText());
        body.sendKeys("World");
        driver.findElement(By.id("invoke-send")).click();

        WebElement output = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("invoke-output")));
        assertEquals("Hello, World!", output.getText().strip());
        assertTrue(driver.findElement(By.id("invoke-status")).getText().startsWith("200"));
        assertEquals("cold", driver.findElement(By.id("invoke-cold")).getText());
        assertTrue(driver.findElement(By.id("invoke-duration")).getText().matches("\\d+ ms in Granda"),
                driver.findElement(By.id("invoke-duration")).getText());
        String invocationId = driver.findElement(By.id("invoke-id")).getText().replace("invocation ", "");

        // The call in the history, in the recent logs, and in the usage.
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#invocations-table tr[data-id='" + invocationId + "']")));
        String row = driver.findElement(By.cssSelector("#invocations-table tr[data-id='" + invocationId + "']")).getText();
        assertTrue(row.contains("success") && row.contains("cold"), row);
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#logs-list .log-entry[data-id='" + invocationId + "']")));
        assertTrue(driver.findElement(By.cssSelector("#logs-list .log-entry[data-id='" + invocationId + "'] summary"))
                .getText().contains("200"));
        wait(WAIT).until(ExpectedConditions.textToBe(By.id("usage-calls"), "1"));
        assertFalse(driver.findElements(By.cssSelector("#usage-chart svg rect.bar")).isEmpty(), "a bar for the call");
        screenshots("function-page");

    }

    @Test
    @Order(4)
    void aFunctionFromCodeShowsItsBuildLogLiveThenItsUrl() {
        open("/console#/new");
        driver.findElement(By.id("tab-code")).click();
        WebElement form = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("code-form")));
        new Select(form.findElement(By.name("runtime"))).selectByValue("python");
        WebElement editor = form.findElement(By.id("code-editor"));
        assertTrue(editor.getDomProperty("value").contains("def handle(request)"), "the editor starts with a hello-world");
        assertFalse(form.findElements(By.cssSelector(".editor-hl .tok-k")).isEmpty(), "keywords are highlighted");
        assertFalse(form.findElements(By.cssSelector(".editor-hl .tok-s")).isEmpty(), "strings are highlighted");
        assertTrue(form.findElement(By.cssSelector("[data-field='dependencies'] label")).getText()
                .contains("requirements.txt"));
        type(form, "name", "greet-py");
        form.findElement(By.id("code-submit")).click();

        WebElement log = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("build-log")));
        wait(BUILD_WAIT).until(ExpectedConditions.presenceOfElementLocated(By.id("build-result")));
        assertEquals("Built in", driver.findElement(By.id("build-result")).getText().substring(0, 8),
                driver.findElement(By.id("build-result")).getText() + "\n" + log.getText());
        assertTrue(log.getText().contains("granda-fn/greet-py"), log.getText());
        WebElement url = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("created-url")));
        assertTrue(url.getText().contains("/f/greet-py-"), url.getText());
        screenshots("create-code-build-log");

        ServerHarness.Reply call = http.call(url.getText(), "World");
        assertEquals(200, call.status(), call.body());
        assertEquals("Hello, World!", call.body().strip());
    }

    @Test
    @Order(5)
    void aBuildFailureShowsTheCompilersMessageUnderTheCode() {
        open("/console#/new?kind=code");
        WebElement form = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("code-form")));
        type(form, "name", "broken-py");
        setCode("code-editor", "def handle(request:\n    return 1\n");
        form.findElement(By.id("code-submit")).click();

        wait(BUILD_WAIT).until(ExpectedConditions.presenceOfElementLocated(By.id("build-result")));
        assertEquals("Build failed", driver.findElement(By.id("build-result")).getText());
        WebElement error = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#code-form [data-field='code'] .field-error")));
        assertTrue(error.getText().contains("SyntaxError"), error.getText());
        assertFalse(driver.findElement(By.id("build-log")).getText().isBlank(), "the log stays to read");
        assertEquals(404, http.get("/functions/broken-py").status(), "nothing is registered");
        screenshots("create-code-build-failure");
    }

    @Test
    @Order(6)
    void editingSettingsAndCodeMakesANewRevision() {
        // An image function: new settings, the rest kept.
        open("/console#/fn/hello-img");
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("edit-function"))).click();
        WebElement form = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("edit-form")));
        type(form, "memoryMb", "256");
        form.findElement(By.id("edit-save")).click();
        wait(WAIT).until(ExpectedConditions.textToBe(By.id("function-revision"), "revision 2"));
        JsonNode image = http.get("/functions/hello-img").json();
        assertEquals(256, image.get("memoryMb").asInt());
        assertEquals("Greets whoever the payload names", image.get("description").asText());
        assertEquals("run", image.get("mode").asText());

        // A function from code: its source in the editor, new code built like a create, served at the same URL.
        open("/console#/fn/greet-py");
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("edit-function"))).click();
        form = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("edit-form")));
        String code = form.findElement(By.id("edit-code")).getDomProperty("value");
        assertTrue(code.contains("def handle(request)"), code);
        setCode("edit-code", code.replace("f\"Hello, {name}!\"", "f\"Hi, {name}!\""));
        type(form, "timeoutSeconds", "20");
        screenshots("function-edit-code");
        form.findElement(By.id("edit-save")).click();
        wait(BUILD_WAIT).until(ExpectedConditions.textToBe(By.id("function-revision"), "revision 2"));
        assertTrue(driver.findElement(By.id("banner")).getText().contains("revision 2"));
        JsonNode fn = http.get("/functions/greet-py").json();
        assertEquals(20, fn.get("timeoutSeconds").asInt());
        ServerHarness.Reply call = http.call(fn.get("url").asText(), "World");
        assertEquals("Hi, World!", call.body().strip(), call.body());
    }

    @Test
    @Order(7)
    void theListShowsKindRevisionUrlLastCallAndCallsInTheLastHour() {
        open("/console");
        WebElement image = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#function-list tr[data-name='hello-img']")));
        WebElement code = driver.findElement(By.cssSelector("#function-list tr[data-name='greet-py']"));
        assertTrue(image.findElement(By.className("kind-cell")).getText().contains("image"), image.getText());
        assertTrue(code.findElement(By.className("kind-cell")).getText().contains("code · python"), code.getText());
        assertEquals("2", image.findElement(By.cssSelector("td[data-label='Revision']")).getText());
        assertEquals("1", image.findElement(By.className("calls-hour")).getText());
        assertEquals("2", code.findElement(By.className("calls-hour")).getText());
        wait(WAIT).until(d -> !image.findElement(By.className("last-call")).getText().equals("…"));
        String lastCall = image.findElement(By.className("last-call")).getText();
        assertTrue(lastCall.endsWith("ago") || lastCall.equals("just now"), lastCall);
        assertTrue(image.findElement(By.className("url")).getText().contains("/f/hello-img-"));
        screenshots("console-list");
    }

    @Test
    @Order(8)
    void deletingAsksForConfirmationFirst() {
        assertEquals(201, http.createFunction("{\"name\":\"doomed\",\"image\":\"granda/hello\"}").status());
        open("/console#/fn/doomed");
        WebElement delete = wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("delete-function")));

        delete.click();
        WebElement dialog = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        assertTrue(dialog.getText().contains("Delete doomed?"), dialog.getText());
        driver.findElement(By.id("confirm-cancel")).click();
        wait(WAIT).until(ExpectedConditions.invisibilityOf(dialog));
        assertEquals(200, http.get("/functions/doomed").status(), "cancelled: still there");

        delete.click();
        wait(WAIT).until(ExpectedConditions.visibilityOf(dialog));
        driver.findElement(By.id("confirm-ok")).click();
        WebElement banner = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("banner")));
        assertTrue(banner.getText().contains("Deleted doomed"), banner.getText());
        wait(WAIT).until(ExpectedConditions.urlMatches("/console#/$"));
        assertEquals(404, http.get("/functions/doomed").status());
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("function-list")));
        assertTrue(driver.findElements(By.cssSelector("#function-list tr[data-name='doomed']")).isEmpty());
    }

    @Test
    @Order(9)
    void aNetworkFailureSaysGrandaCannotBeReached() {
        open("/console");
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("function-list")));
        // As if the server went away: every request of the page fails the way fetch fails on a refused connection.
        js("window.fetch = () => Promise.reject(new TypeError('Failed to fetch'));");
        driver.findElement(By.xpath("//button[text()='Refresh']")).click();
        WebElement failure = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("view-error")));
        assertTrue(failure.getText().contains("Granda cannot be reached"), failure.getText());
        assertTrue(failure.getText().contains("Cannot reach Granda at " + http.base()), failure.getText());
    }

    @Test
    @Order(11)
    void aRevokedKeySendsTheConsoleBackToSignInAndSigningOutForgetsTheKey() {
        assertEquals(201, http.send("POST", "/tenants", "application/json", "{\"id\":\"browser\"}").status());
        JsonNode key = http.send("POST", "/tenants/browser/keys", "application/json", "{\"name\":\"laptop\"}").json();
        open("/console");
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("sign-out"))).click();
        WebElement notice = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-message")));
        assertTrue(notice.getText().contains("signed out"), notice.getText());
        assertEquals(null, js("return sessionStorage.getItem('granda.apiKey');"));

        signIn(key.get("key").asText());
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("no-functions")));
        assertEquals("browser · tenant (laptop)", driver.findElement(By.id("identity")).getText());
        assertTrue(driver.findElements(By.cssSelector("#function-list tr[data-name='hello-img']")).isEmpty(),
                "a tenant sees only its own functions");

        assertEquals(204, http.send("DELETE", "/keys/" + key.get("keyId").asText(), null, null).status());
        driver.findElement(By.xpath("//button[text()='Refresh']")).click();
        WebElement refused = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-message")));
        assertTrue(refused.getText().contains("no longer works"), refused.getText());
        assertTrue(driver.findElements(By.id("no-functions")).isEmpty());
        assertFalse(driver.findElement(By.id("banner")).isDisplayed(), "the refusal is said once, on the sign-in page");

        signIn(ServerHarness.ADMIN_KEY);
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("function-list")));
    }

    @Test
    @Order(10)
    void theHighlighterMarksKeywordsStringsCommentsAndNumbersOfEachLanguage() {
        open("/console");
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(By.id("function-list")));
        @SuppressWarnings("unchecked")
        Map<String, String> html = (Map<String, String>) ((JavascriptExecutor) driver).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                import('/console/assets/editor.js').then((m) => done({
                  python: m.highlight('def f(x):  # hi\\n    return "a" + 12', 'python'),
                  javascript: m.highlight('const s = `t`; // hi\\nreturn 0x1f;', 'javascript'),
                  go: m.highlight('func main() { s := `raw` /* hi */; n := 42 }', 'go'),
                  java: m.highlight('public static String h() { return "x\\\\"y"; } // hi 7', 'java'),
                  shell: m.highlight('echo "$1" $# \\'lit\\' 12 # hi', 'shell'),
                  unknown: m.highlight('<b>&', 'cobol'),
                }), (e) => done({error: String(e)}));""");
        assertEquals(null, html.get("error"));
        for (String lang : List.of("python", "javascript", "go", "java", "shell")) {
            String h = html.get(lang);
            assertTrue(h.contains("<span class=\"tok-k\">") || lang.equals("shell"), lang + ": " + h);
            assertTrue(h.contains("<span class=\"tok-s\">"), lang + ": " + h);
            assertTrue(h.contains("<span class=\"tok-n\">") || lang.equals("java"), lang + ": " + h);
        }
        assertTrue(html.get("python").contains("<span class=\"tok-c\"># hi</span>"), html.get("python"));
        assertTrue(html.get("javascript").contains("<span class=\"tok-c\">// hi</span>"), html.get("javascript"));
        assertTrue(html.get("go").contains("<span class=\"tok-s\">`raw`</span>"), html.get("go"));
        assertTrue(html.get("java").contains("<span class=\"tok-s\">\"x\\\"y\"</span>"), html.get("java"));
        assertTrue(html.get("java").contains("<span class=\"tok-c\">// hi 7</span>"), "a number in a comment is comment");
        assertTrue(html.get("shell").contains(" $# ") && html.get("shell").contains("<span class=\"tok-c\"># hi</span>"),
                "$# is no comment: " + html.get("shell"));
        assertEquals("&lt;b&gt;&amp;", html.get("unknown"));
    }

    /** The key the admin makes for the tenant "acme" on the Access page, shown there once (tests 12 to 14). */
    private static String acmeKey;

    @Test
    @Order(12)
    void anAdminCreatesATenantAndAKeyWhoseSecretIsShownOnlyOnce() {
        open("/console");
        js("sessionStorage.clear();");
        open("/console#/access");
        signIn(ServerHarness.ADMIN_KEY);
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("whoami")));
        assertEquals("default", driver.findElement(By.id("whoami-tenant")).getText());
        assertEquals("admin", driver.findElement(By.id("whoami-role")).getText());
        String adminKeyId = http.get("/whoami").json().get("keyId").asText();
        assertEquals(adminKeyId, driver.findElement(By.id("whoami-key")).getText());
        assertEquals("page", driver.findElement(By.cssSelector(".topnav a[href='/console#/access']"))
                .getDomAttribute("aria-current"));
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#tenant-list tr[data-tenant='default']")));
        WebElement own = wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#key-list tr[data-key-id='" + adminKeyId + "']")));
        assertTrue(own.getText().contains("signed in with this key"), own.getText());

        // A bad id: the server's own message at the field, nothing created.
        WebElement tenantForm = driver.findElement(By.id("tenant-form"));
        assertTrue(tenantForm.getText().contains("lowercase letters, digits and “-”"), "the id rules are shown");
        type(tenantForm, "id", "Bad_Tenant");
        tenantForm.findElement(By.id("tenant-submit")).click();
        WebElement error = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#tenant-form [data-field='id'] .field-error")));
        assertTrue(error.getText().contains("tenant 'Bad_Tenant' is invalid"), error.getText());
        assertEquals("true", tenantForm.findElement(By.name("id")).getDomAttribute("aria-invalid"));
        assertEquals(driver.switchTo().activeElement(), tenantForm.findElement(By.name("id")), "the field has focus");
        assertFalse(driver.findElement(By.id("banner")).isDisplayed(), "a field's error is not a banner");
        assertFalse(http.get("/tenants").body().contains("Bad_Tenant"));
        screenshots("access-invalid-tenant");

        // One that exists: an error naming no field is said next to the form.
        type(tenantForm, "id", "default");
        tenantForm.findElement(By.id("tenant-submit")).click();
        WebElement taken = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#tenant-form .form-error")));
        assertTrue(taken.getText().contains("a tenant named 'default' already exists"), taken.getText());
        assertTrue(error.getText().isEmpty(), "the earlier field error is cleared");
        assertFalse(driver.findElement(By.id("banner")).isDisplayed());

        type(tenantForm, "id", "acme");
        tenantForm.findElement(By.id("tenant-submit")).click();
        wait(WAIT).until(ExpectedConditions.urlMatches("/console#/access/acme$"));
        wait(WAIT).until(ExpectedConditions.textToBe(By.cssSelector("#keys h2"), "Keys of acme"));
        assertTrue(driver.findElement(By.id("banner")).getText().contains("Created tenant acme"));
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("no-keys")));
        assertEquals("true", driver.findElement(By.cssSelector("#tenant-list tr[data-tenant='acme'] a"))
                .getDomAttribute("aria-current"));

        // A key for it: the secret once, in a read-only field with a copy button and a warning.
        WebElement keyForm = driver.findElement(By.id("key-form"));
        type(keyForm, "name", "ci");
        new Select(keyForm.findElement(By.name("role"))).selectByValue("tenant");
        keyForm.findElement(By.id("key-submit")).click();
        WebElement secret = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("new-key-secret")));
        acmeKey = secret.getDomProperty("value");
        assertTrue(acmeKey.startsWith("gk_"), acmeKey);
        assertEquals("true", secret.getDomProperty("readOnly"), "read-only");
        assertEquals(secret, driver.switchTo().activeElement(), "the key has focus, selected to copy");
        assertTrue(driver.findElement(By.id("new-key-note")).getText().contains("you will not see it again"),
                driver.findElement(By.id("new-key-note")).getText());
        WebElement copy = driver.findElement(By.cssSelector("#new-key button.copy"));
        copy.click();
        wait(WAIT).until(d -> !copy.getText().equals("Copy"));
        assertEquals("Copied", copy.getText());
        JsonNode whoami = new ServerHarness(server.port(), acmeKey).get("/whoami").json();
        assertEquals("acme", whoami.get("tenant").asText(), "the key shown is the key made");
        assertEquals("tenant", whoami.get("role").asText());
        String keyId = whoami.get("keyId").asText();
        WebElement row = wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#key-list tr[data-key-id='" + keyId + "']")));
        assertTrue(row.getText().contains("ci") && row.getText().contains("active"), row.getText());
        assertFalse(driver.findElement(By.id("no-keys")).isDisplayed());
        screenshots("access-new-key");

        // Reloaded, the page has the key's listing and nothing of its secret, in the page or in the tab's storage.
        driver.navigate().refresh();
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#key-list tr[data-key-id='" + keyId + "']")));
        assertTrue(driver.findElements(By.id("new-key-secret")).isEmpty());
        assertFalse(driver.getPageSource().contains(acmeKey), "the secret is not on the page again");
        assertEquals(false, js("return JSON.stringify(sessionStorage).includes(arguments[0])"
                + " || JSON.stringify(localStorage).includes(arguments[0]);", acmeKey));
    }

    @Test
    @Order(13)
    void aTenantKeySeesItselfAndItsOwnTenantsKeysOnly() {
        open("/console#/access");
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("sign-out"))).click();
        signIn(acmeKey);
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("whoami")));
        assertEquals("acme", driver.findElement(By.id("whoami-tenant")).getText());
        assertEquals("tenant", driver.findElement(By.id("whoami-role")).getText());
        assertEquals("ci", driver.findElement(By.id("whoami-name")).getText());
        assertEquals("acme · tenant (ci)", driver.findElement(By.id("identity")).getText());
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#key-list tbody tr")));
        assertTrue(driver.findElements(By.id("tenants")).isEmpty(), "no tenants list for a tenant key");
        List<String> roles = driver.findElements(By.cssSelector("#key-form [name='role'] option")).stream()
                .map(o -> o.getDomAttribute("value")).toList();
        assertEquals(List.of("tenant", "reader", "invoker"), roles,
                "a tenant key makes tenant, reader or invoker keys, never admin ones");
        assertEquals("Keys of acme", driver.findElement(By.cssSelector("#keys h2")).getText());
        List<WebElement> rows = driver.findElements(By.cssSelector("#key-list tbody tr"));
        assertEquals(1, rows.size(), "acme's one key, nothing of default's");
        assertTrue(rows.get(0).getText().contains("signed in with this key"), rows.get(0).getText());

        // Another tenant's keys are not for it: the page shows its own whatever the address names.
        open("/console#/access/default");
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#key-list tbody tr")));
        assertEquals("Keys of acme", driver.findElement(By.cssSelector("#keys h2")).getText());
        screenshots("access-tenant");
    }

    @Test
    @Order(14)
    void revokingAKeyAsksFirstShowsItRevokedAndRevokingOnesOwnKeySignsOut() {
        ServerHarness asAcme = new ServerHarness(server.port(), acmeKey);
        open("/console#/access");
        WebElement keyForm = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("key-form")));
        type(keyForm, "name", "spare");
        keyForm.findElement(By.id("key-submit")).click();
        String spare = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("new-key-secret")))
                .getDomProperty("value");
        String spareId = new ServerHarness(server.port(), spare).get("/whoami").json().get("keyId").asText();
        driver.findElement(By.id("new-key-done")).click();
        assertTrue(driver.findElements(By.id("new-key-secret")).isEmpty(), "put away once saved");
        assertEquals(keyForm.findElement(By.name("name")), driver.switchTo().activeElement());
        assertEquals("", keyForm.findElement(By.className("submit-status")).getText(), "nothing left to copy");

        By revokeSpare = By.cssSelector("#key-list tr[data-key-id='" + spareId + "'] button[data-revoke]");
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(revokeSpare)).click();
        WebElement dialog = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        assertTrue(dialog.getText().contains("Revoke key “spare” (" + spareId + ")?"), dialog.getText());
        assertFalse(dialog.getText().contains("signs you out"), dialog.getText());
        driver.findElement(By.id("confirm-cancel")).click();
        wait(WAIT).until(ExpectedConditions.invisibilityOf(dialog));
        assertEquals(200, new ServerHarness(server.port(), spare).get("/whoami").status(), "cancelled: still valid");

        driver.findElement(revokeSpare).click();
        wait(WAIT).until(ExpectedConditions.visibilityOf(dialog));
        driver.findElement(By.id("confirm-ok")).click();
        WebElement message = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("keys-message")));
        assertTrue(message.getText().contains("Revoked key “spare”"), message.getText());
        WebElement row = driver.findElement(By.cssSelector("#key-list tr[data-key-id='" + spareId + "']"));
        assertTrue(row.findElement(By.className("key-status")).getText().contains("revoked"), row.getText());
        assertTrue(row.findElements(By.cssSelector("button[data-revoke]")).isEmpty(), "nothing more to revoke");
        assertEquals(401, new ServerHarness(server.port(), spare).get("/whoami").status());
        assertFalse(http.get("/tenants/acme/keys").json().get("items").get(1).get("revokedAt").isNull());
        screenshots("access-revoked");

        // The key the console is signed in with: the dialog says so, and the console signs out once it is revoked.
        String ownId = asAcme.get("/whoami").json().get("keyId").asText();
        driver.findElement(By.cssSelector("#key-list tr[data-key-id='" + ownId + "'] button[data-revoke]")).click();
        wait(WAIT).until(ExpectedConditions.visibilityOf(dialog));
        assertTrue(dialog.getText().contains("signs you out"), dialog.getText());
        driver.findElement(By.id("confirm-ok")).click();
        WebElement notice = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-message")));
        assertTrue(notice.getText().contains("You revoked the key you were signed in with"), notice.getText());
        assertEquals(null, js("return sessionStorage.getItem('granda.apiKey');"));
        assertEquals(401, asAcme.get("/whoami").status());
        signIn(ServerHarness.ADMIN_KEY);
    }

    @Test
    @Order(15)
    void anAdminChoosesATenantToSeeItsKeysAndCannotRevokeTheLastAdminKey() {
        open("/console#/access");
        WebElement acme = wait(WAIT).until(ExpectedConditions.elementToBeClickable(
                By.cssSelector("#tenant-list tr[data-tenant='acme'] a.fn-link")));
        acme.click();
        wait(WAIT).until(ExpectedConditions.textToBe(By.cssSelector("#keys h2"), "Keys of acme"));
        wait(WAIT).until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#key-list tbody tr"), 2));
        for (WebElement row : driver.findElements(By.cssSelector("#key-list tbody tr"))) {
            assertTrue(row.findElement(By.className("key-status")).getText().contains("revoked"), row.getText());
        }

        driver.findElement(By.cssSelector("#tenant-list tr[data-tenant='default'] a.fn-link")).click();
        wait(WAIT).until(ExpectedConditions.textToBe(By.cssSelector("#keys h2"), "Keys of default"));
        String adminKeyId = http.get("/whoami").json().get("keyId").asText();
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(
                By.cssSelector("#key-list tr[data-key-id='" + adminKeyId + "'] button[data-revoke]"))).click();
        WebElement dialog = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        driver.findElement(By.id("confirm-ok")).click();
        WebElement error = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("keys-error")));
        assertTrue(error.getText().contains("is the last valid admin key"), error.getText());
        assertFalse(dialog.isDisplayed());
        assertTrue(driver.findElement(By.id("sign-out")).isDisplayed(), "still signed in");
        assertEquals(200, http.get("/whoami").status());
        screenshots("access-admin");
    }

    @Test
    @Order(16)
    void anAdminGivesAKeyAnExpiryAndDeletesATenantOnlyOnceItsFunctionsAreGone() {
        assertEquals(201, http.send("POST", "/tenants", "application/json", "{\"id\":\"dropme\"}").status());
        String dropmeKey = http.send("POST", "/tenants/dropme/keys", "application/json", "{\"name\":\"deployer\"}")
                .json().get("key").asText();
        ServerHarness asDropme = new ServerHarness(server.port(), dropmeKey);
        assertEquals(201, asDropme.createFunction("{\"name\":\"dropme-fn\",\"image\":\"granda-hot-echo\","
                + "\"mode\":\"hot\"}").status());

        open("/console#/access/dropme");
        wait(WAIT).until(ExpectedConditions.textToBe(By.cssSelector("#keys h2"), "Keys of dropme"));
        // A key that expires in 30 days: said when it is shown, listed with its date, and so stored.
        WebElement keyForm = driver.findElement(By.id("key-form"));
        type(keyForm, "name", "month");
        new org.openqa.selenium.support.ui.Select(keyForm.findElement(By.name("expiresInDays"))).selectByValue("30");
        keyForm.findElement(By.id("key-submit")).click();
        String monthKey = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("new-key-secret")))
                .getDomProperty("value");
        assertTrue(driver.findElement(By.id("new-key-note")).getText().contains("It expires"),
                driver.findElement(By.id("new-key-note")).getText());
        com.fasterxml.jackson.databind.JsonNode month = new ServerHarness(server.port(), monthKey).get("/whoami").json();
        java.time.Instant expiresAt = java.time.Instant.parse(month.get("expiresAt").asText());
        long days = java.time.Duration.between(java.time.Instant.now(), expiresAt).toHours();
        assertTrue(days > 29 * 24 && days <= 30 * 24, "expires in 30 days: " + expiresAt);
        WebElement monthRow = wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#key-list tr[data-key-id='" + month.get("keyId").asText() + "']")));
        assertTrue(monthRow.findElement(By.className("key-status")).getText().contains("expires"), monthRow.getText());

        // Deleting a tenant that still has a function: refused, saying which, and nothing changes.
        By delete = By.cssSelector("#tenant-list tr[data-tenant='dropme'] button[data-delete-tenant]");
        assertTrue(driver.findElements(By.cssSelector("#tenant-list tr[data-tenant='default'] button[data-delete-tenant]"))
                .isEmpty(), "the default tenant cannot be deleted, so it is not offered");
        clickCentered(delete);
        WebElement dialog = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        assertTrue(dialog.getText().contains("Delete tenant dropme?"), dialog.getText());
        driver.findElement(By.id("confirm-ok")).click();
        WebElement error = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("tenants-error")));
        assertTrue(error.getText().contains("dropme-fn"), error.getText());
        assertEquals(200, asDropme.get("/whoami").status(), "refused: its keys still work");

        // Once its function is gone, the tenant goes, and every key of it stops working.
        assertEquals(204, asDropme.send("DELETE", "/functions/dropme-fn", null, null).status());
        clickCentered(delete);
        wait(WAIT).until(ExpectedConditions.visibilityOf(dialog));
        driver.findElement(By.id("confirm-ok")).click();
        wait(WAIT).until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("#tenant-list tr[data-tenant='dropme']")));
        assertEquals(401, asDropme.get("/whoami").status());
        assertEquals(401, new ServerHarness(server.port(), monthKey).get("/whoami").status());
        screenshots("access-tenant-deleted");
    }

    @Test
    @Order(17)
    void aReaderKeySeesItsTenantsKeysAndIsOfferedNothingToChange() {
        assertEquals(201, http.createFunction("{\"name\":\"viewed\",\"image\":\"granda-hot-echo\",\"mode\":\"hot\"}")
                .status());
        ServerHarness.Reply made = http.send("POST", "/tenants/default/keys", "application/json",
                "{\"role\":\"reader\",\"name\":\"board\"}");
        assertEquals(201, made.status(), made.body());
        open("/console#/access");
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("sign-out"))).click();
        signIn(made.json().get("key").asText());
        wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("whoami")));
        assertEquals("reader", driver.findElement(By.id("whoami-role")).getText());
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#key-list tbody tr")));
        assertTrue(driver.findElement(By.id("read-only-note")).isDisplayed());
        assertTrue(driver.findElements(By.id("key-form")).isEmpty(), "no key to make");
        assertTrue(driver.findElements(By.cssSelector("#key-list button[data-revoke]")).isEmpty(), "none to revoke");
        assertTrue(driver.findElements(By.id("tenants")).isEmpty(), "no tenants list");
        screenshots("access-reader");
        // Nor do the function pages offer what the server would refuse it.
        assertFalse(driver.findElement(By.cssSelector(".topnav a[href='/console#/new']")).isDisplayed());
        open("/console#/");
        wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("a.fn-link[href='#/fn/viewed']")));
        assertTrue(driver.findElements(By.id("new-function")).isEmpty(), "no New function for a reader");
        open("/console#/fn/viewed");
        wait(WAIT).until(ExpectedConditions.textToBe(By.id("function-name"), "viewed"));
        assertTrue(driver.findElements(By.id("edit-function")).isEmpty(), "no Edit");
        assertTrue(driver.findElements(By.id("delete-function")).isEmpty(), "no Delete");
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("sign-out"))).click();
        signIn(ServerHarness.ADMIN_KEY);
    }

    @Test
    @Order(18)
    void aReaderIsOfferedNoCallOfAPrivateFunctionAndCallsAPublicOneFromItsPage() {
        // A tenant of its own: functions belong to the key that makes them, so a tenant key (the admin's) deploys.
        assertEquals(201, http.send("POST", "/tenants", "application/json", "{\"id\":\"watchers\"}").status());
        ServerHarness asWatchers = new ServerHarness(server.port(), http.send("POST", "/tenants/watchers/keys",
                "application/json", "{\"name\":\"deployer\"}").json().get("key").asText());
        assertEquals(201, asWatchers.createFunction("{\"name\":\"watched-open\",\"image\":\"granda-hot-echo\","
                + "\"mode\":\"hot\"}").status());
        ServerHarness.Reply closed = asWatchers.createFunction("{\"name\":\"watched-closed\","
                + "\"image\":\"granda-hot-echo\",\"mode\":\"hot\",\"private\":true}");
        assertEquals(201, closed.status(), closed.body());
        ServerHarness.Reply reader = http.send("POST", "/tenants/watchers/keys", "application/json",
                "{\"role\":\"reader\",\"name\":\"wall\"}");
        assertEquals(201, reader.status(), reader.body());
        String readerKey = reader.json().get("key").asText();
        // What the console is to say is so: the server refuses the reader a private function's call.
        assertEquals(403, new ServerHarness(server.port(), readerKey)
                .call(closed.json().get("url").asText(), "x").status());

        open("/console");
        js("sessionStorage.clear();");
        open("/console#/fn/watched-closed");
        signIn(readerKey);
        wait(WAIT).until(ExpectedConditions.textToBe(By.id("function-name"), "watched-closed"));
        WebElement note = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("invoke-private-note")));
        assertTrue(note.getText().contains("private; a reader key cannot call it"), note.getText());
        assertTrue(driver.findElements(By.id("invoke-form")).isEmpty(), "no Invoke form");
        assertTrue(driver.findElements(By.id("invoke-send")).isEmpty(), "nothing to call with");
        screenshots("function-private-reader");

        // Nor, at its address, the page to create a function.
        open("/console#/new");
        WebElement newNote = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("new-read-only-note")));
        assertTrue(newNote.getText().contains("read-only"), newNote.getText());
        assertTrue(driver.findElements(By.id("image-form")).isEmpty(), "no form to create with");

        // A public function's URL needs no key: the form stays, and the call works.
        open("/console#/fn/watched-open");
        WebElement body = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("invoke-body")));
        assertTrue(driver.findElements(By.id("invoke-private-note")).isEmpty());
        body.sendKeys("seen by a reader");
        driver.findElement(By.id("invoke-send")).click();
        WebElement output = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("invoke-output")));
        assertEquals("seen by a reader", output.getText().strip());
        assertTrue(driver.findElement(By.id("invoke-status")).getText().startsWith("200"),
                driver.findElement(By.id("invoke-status")).getText());

        // An admin key calls the private function from its page as before.
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("sign-out"))).click();
        signIn(ServerHarness.ADMIN_KEY);
        open("/console#/fn/watched-closed");
        body = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("invoke-body")));
        assertTrue(driver.findElements(By.id("invoke-private-note")).isEmpty());
        body.sendKeys("seen by an admin");
        driver.findElement(By.id("invoke-send")).click();
        output = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("invoke-output")));
        assertEquals("seen by an admin", output.getText().strip());
    }

    @Test
    @Order(19)
    void anInvokerKeyIsMadeForNamedFunctionsAndTheConsoleSaysItCannotSignInWithIt() {
        open("/console");
        js("sessionStorage.clear();");
        open("/console#/access");
        signIn(ServerHarness.ADMIN_KEY);
        WebElement keyForm = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("key-form")));
        WebElement functions = keyForm.findElement(By.cssSelector("[data-field='functions']"));
        assertFalse(functions.isDisplayed(), "only an invoker key has a list of functions");
        new Select(keyForm.findElement(By.name("role"))).selectByValue("invoker");
        assertTrue(functions.isDisplayed());
        assertTrue(functions.getText().contains("need not exist yet"), functions.getText());
        int keysBefore = http.get("/tenants/default/keys").json().get("items").size();

        // A name that is not one: the server's message under the field, no key made.
        type(keyForm, "name", "app");
        type(keyForm, "functions", "viewed, Not_A_Name");
        keyForm.findElement(By.id("key-submit")).click();
        WebElement error = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#key-form [data-field='functions'] .field-error")));
        assertTrue(error.getText().contains("'Not_A_Name' is not a function name"), error.getText());
        assertEquals(keysBefore, http.get("/tenants/default/keys").json().get("items").size());

        type(keyForm, "functions", " viewed , later-one,");
        keyForm.findElement(By.id("key-submit")).click();
        WebElement secret = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("new-key-secret")));
        String invokerKey = secret.getDomProperty("value");
        assertTrue(driver.findElement(By.id("new-key-scope")).getText().contains("can call only viewed, later-one"),
                driver.findElement(By.id("new-key-scope")).getText());
        JsonNode whoami = new ServerHarness(server.port(), invokerKey).get("/whoami").json();
        assertEquals("invoker", whoami.get("role").asText(), "the key shown is the key made");
        assertEquals("[\"viewed\",\"later-one\"]", whoami.get("functions").toString());
        WebElement row = wait(WAIT).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#key-list tr[data-key-id='" + whoami.get("keyId").asText() + "']")));
        assertTrue(row.findElement(By.cssSelector(".key-scope")).getText().contains("calls viewed, later-one"),
                row.getText());
        assertFalse(functions.isDisplayed(), "the form is back to a tenant key");
        screenshots("access-invoker-key");

        // Signing in with it: the console says what the key is for, and keeps nothing of it.
        wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.id("sign-out"))).click();
        WebElement input = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-key")));
        input.sendKeys(invokerKey);
        driver.findElement(By.id("signin-submit")).click();
        WebElement refused = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#signin-form [data-field='key'] .field-error")));
        assertTrue(refused.getText().contains("This is an invoker key") && refused.getText().contains(
                "viewed, later-one") && refused.getText().contains("Sign in with a tenant, reader or admin key"),
                refused.getText());
        assertTrue(driver.findElement(By.id("signin-key")).isDisplayed(), "still the sign-in page");
        assertEquals(false, js("return JSON.stringify(sessionStorage).includes(arguments[0]);", invokerKey));
        screenshots("signin-invoker");
        signIn(ServerHarness.ADMIN_KEY);
    }

    // -----------------------------------------------------------------------------------------------------------

    private static void open(String pathAndFragment) {
        driver.get(http.base() + pathAndFragment);
    }

    /** Signs in on the sign-in page, which must be on its way. */
    private static void signIn(String key) {
        WebElement input = wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.id("signin-key")));
        input.clear();
        input.sendKeys(key);
        driver.findElement(By.id("signin-submit")).click();
        wait(WAIT).until(ExpectedConditions.invisibilityOfElementLocated(By.id("signin-key")));
    }

    private static WebDriverWait wait(Duration timeout) {
        return new WebDriverWait(driver, timeout);
    }

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Puts code in an editor as a paste would (typing would go through the editor's auto-indent). */
    private static void setCode(String textareaId, String code) {
        ((JavascriptExecutor) driver).executeScript("""
                const t = document.getElementById(arguments[0]);
                t.value = arguments[1];
                t.dispatchEvent(new Event('input'));""", textareaId, code);
    }

    /** Clicks an element once scrolled to the middle of the window, where the sticky top bar cannot cover it. */
    private static void clickCentered(By locator) {
        WebElement element = wait(WAIT).until(ExpectedConditions.elementToBeClickable(locator));
        js("arguments[0].scrollIntoView({block: 'center'});", element);
        element.click();
    }

    private static void type(WebElement form, String name, String text) {
        WebElement input = form.findElement(By.name(name));
        input.clear();
        input.sendKeys(text);
    }

    /** Makes the page's viewport exactly this size (the window may have borders around it). */
    private static void setViewport(Dimension size) {
        driver.manage().window().setSize(size);
        long innerWidth = (Long) js("return window.innerWidth;");
        long innerHeight = (Long) js("return window.innerHeight;");
        if (innerWidth != size.width || innerHeight != size.height) {
            driver.manage().window().setSize(new Dimension(size.width + (int) (size.width - innerWidth),
                    size.height + (int) (size.height - innerHeight)));
        }
    }

    /** Waits until the browser has laid the page out again (two animation frames). */
    private static void settle() {
        ((JavascriptExecutor) driver).executeAsyncScript(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));");
    }

    /**
     * Photographs the whole page at a desktop and at a phone width; at the phone width nothing may be wider than
     * the screen.
     */
    private static void screenshots(String name) {
        try {
            for (Dimension viewport : List.of(DESKTOP, PHONE)) {
                String label = viewport == DESKTOP ? "desktop" : "phone";
                setViewport(viewport);
                settle();
                assertEquals(viewport.width, ((Long) js("return window.innerWidth;")).intValue(), "viewport width");
                if (viewport == PHONE) {
                    Object widest = js("""
                            const w = window.innerWidth;
                            const over = [...document.querySelectorAll('body *')]
                              .filter(e => e.getBoundingClientRect().right > w + 0.5 && !e.closest('.table-wrap, pre, .editor, dialog:not([open])'))
                              .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
                            return document.documentElement.scrollWidth + ' > ' + w + ': ' + over.slice(0, 5).join(', ');""");
                    boolean fits = (Boolean) js("return document.documentElement.scrollWidth <= window.innerWidth;");
                    assertTrue(fits, name + " overflows horizontally at " + viewport.width + " px: " + widest);
                }
                Object clipped = js("return [...document.querySelectorAll('.table-wrap')]"
                        + ".filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.firstChild.id).join(', ');");
                assertEquals("", clipped, name + ": tables wider than their card at " + viewport.width + " px");
                long height = (Long) js("return Math.ceil(document.documentElement.scrollHeight);");
                driver.manage().window().setSize(new Dimension(driver.manage().window().getSize().width,
                        driver.manage().window().getSize().height + (int) Math.max(0, Math.min(height, 6000) - viewport.height)));
                settle();
                File shot = driver.getScreenshotAs(OutputType.FILE);
                Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + "-" + label + ".png"),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            setViewport(DESKTOP);
        }
    }
}
