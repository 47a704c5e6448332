package io.github.glidejava.diffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.TinyModels;
import io.github.glidejava.nn.unet.GlideModelKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page of {@code glide serve} in headless Chromium (Selenium, Debian's {@code chromium} and
 * {@code chromium-driver}), against a server on 127.0.0.1 with the fixtures' tiny models: generate and watch the
 * progress and the image arrive, cancel a running job, paint a mask and inpaint; a page of another site that tries to
 * submit and cancel jobs gets nowhere. Screenshots of each step go to
 * {@code target/screenshots/}. Without Chromium or chromedriver the tests are skipped, except under {@code CI=true},
 * where they fail.
 */
class ServeBrowserTest {
    /** Generous: the tiny models are fast, but a loaded CI machine is not. */
    private static final Duration WAIT = Duration.ofSeconds(240);
    private static final Path SHOTS = Path.of("target", "screenshots");

    private static GlideServer server;
    private static ChromeDriver driver;
    private static Path trainDir;
    private static String missing;

    @BeforeAll
    static void start() throws IOException {
        String chromium = find("CHROME_BIN", "chromium", "chromium-browser", "google-chrome");
        String chromedriver = find("CHROMEDRIVER", "chromedriver");
        if (chromium == null || chromedriver == null) {
            String msg = "no " + (chromium == null ? "chromium (or $CHROME_BIN)" : "chromedriver (or $CHROMEDRIVER)")
                    + " on this machine: install Debian's chromium and chromium-driver to run the page's tests";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(msg + " (CI=true: .ci/run installs them)");
            }
            // each test is then reported as skipped with this message (see open())
            missing = msg;
            return;
        }
        trainDir = Files.createTempDirectory("glide-serve-train");
        Files.write(trainDir.resolve("loss.png"), ServeApiTest.pngBytes(40, 20, 0xcc3333));
        Files.createDirectories(trainDir.resolve("samples"));
        Files.write(trainDir.resolve("samples/step-000000020.png"), ServeApiTest.pngBytes(16, 16, 0x3333cc));
        Files.writeString(trainDir.resolve("metrics.jsonl"), "{\"step\": 20, \"loss\": 0.25}\n");
        server = GlideServer.builder().port(0).previewEvery(1).trainDir(trainDir)
                .model("tiny", GlidePipeline.builder().base(TinyModels.model(GlideModelKind.BASE.modelClass()))
                        .withoutUpsampler().tokenizer(TinyModels.tokenizer()).build())
                .model("tiny-inpaint", GlidePipeline.builder().base(TinyModels.model(
                        GlideModelKind.BASE_INPAINT.modelClass())).withoutUpsampler()
                        .tokenizer(TinyModels.tokenizer()).build())
                .build().start();
        ChromeOptions options = new ChromeOptions().setBinary(chromium)
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1100,1300");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(chromedriver)).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        Files.createDirectories(SHOTS);
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.close();
        }
        if (trainDir != null) {
            try (Stream<Path> files = Files.walk(trainDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // a temporary directory left behind
            }
        }
    }

    @BeforeEach
    void open() {
        Assumptions.assumeTrue(missing == null, missing);
        driver.get(server.url());
        waitUntil(d -> new Select(d.findElement(By.id("model"))).getOptions().size() == 2);
    }

    @Test
    void typeAPromptGenerateSeeProgressAndTheImageThenReuseTheSeed() throws IOException {
        type("prompt", "a red apple");
        type("steps", "40");
        type("seed", "5");
        shot("generate-1-form");
        driver.findElement(By.id("generate")).click();
        // progress: the bar moves and a preview of the predicted x0 appears before the end
        waitUntil(d -> d.findElement(By.id("progress-text")).getText().contains("step")
                || !d.findElements(By.cssSelector(".card.done")).isEmpty());
        waitUntil(d -> d.findElement(By.id("preview")).getAttribute("src") != null);
        shot("generate-2-progress");
        WebElement card = waitUntil(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".card.done")));
        WebElement img = card.findElement(By.cssSelector("img.result"));
        waitUntil(d -> ((Number) js("return arguments[0].naturalWidth", img)).intValue() == 16);
        assertTrue(card.findElement(By.className("params")).getText().contains("seed 5"),
                card.findElement(By.className("params")).getText());
        assertEquals(1.0, ((Number) js("return document.getElementById('progress').value")).doubleValue());
        assertTrue(card.findElement(By.className("download")).getAttribute("href").endsWith("/images/0.png"));
        shot("generate-3-done");

        type("seed", "");
        type("prompt", "something else");
        card.findElement(By.className("reuse-seed")).click();
        assertEquals("5", driver.findElement(By.id("seed")).getAttribute("value"));
        assertEquals("a red apple", driver.findElement(By.id("prompt")).getAttribute("value"));
    }

    @Test
    void cancelARunningJob() throws IOException {
        type("prompt", "a long job");
        type("steps", "1000");
        type("num-images", "4");
        driver.findElement(By.id("generate")).click();
        waitUntil(d -> d.findElement(By.id("progress-text")).getText().contains("step"));
        shot("cancel-1-running");
        driver.findElement(By.id("cancel")).click();
        waitUntil(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".card.cancelled")));
        assertTrue(driver.findElement(By.id("progress-text")).getText().startsWith("cancelled"),
                driver.findElement(By.id("progress-text")).getText());
        assertTrue(driver.findElement(By.id("generate")).isEnabled());
        shot("cancel-2-cancelled");
    }

    @Test
    void badInputShowsTheServersMessageOnTheField() throws IOException {
        type("prompt", "x");
        js("document.getElementById('steps').removeAttribute('max')");
        type("steps", "5000");
        driver.findElement(By.id("generate")).click();
        WebElement error = driver.findElement(By.id("form-error"));
        waitUntil(d -> !error.getText().isEmpty());
        assertTrue(error.getText().contains("steps") && error.getText().contains("1 to 1000"), error.getText());
        assertTrue(driver.findElement(By.id("steps")).getAttribute("class").contains("field-error"));
        shot("error-1-steps");
    }

    @Test
    void paintAMaskAndInpaint(@TempDir Path dir) throws IOException {
        Path picture = dir.resolve("grass.png");
        Files.write(picture, ServeApiTest.pngBytes(64, 64, 0x2f9e44));
        new Select(driver.findElement(By.id("model"))).selectByValue("tiny-inpaint");
        assertEquals("inpaint", new Select(driver.findElement(By.id("task"))).getFirstSelectedOption().getText());
        driver.findElement(By.id("source-file")).sendKeys(picture.toAbsolutePath().toString());
        WebElement canvas = driver.findElement(By.id("source-canvas"));
        waitUntil(d -> pixel(canvas, 128, 128)[1] > 100);   // the green picture is drawn
        int[] before = pixel(canvas, 128, 128);
        js("const b = document.getElementById('brush'); b.value = 60; b.dispatchEvent(new Event('input'))");
        new Actions(driver).moveToElement(canvas, -40, 0).clickAndHold().moveByOffset(40, 0).moveByOffset(40, 0)
                .release().perform();
        int[] after = pixel(canvas, 128, 128);
        assertTrue(after[0] > before[0] + 50, "the painted region is tinted red: " + before[0] + " -> " + after[0]);
        shot("inpaint-1-mask");

        // erase part of it, then clear and paint again: the tools work
        driver.findElement(By.id("erase")).click();
        new Actions(driver).moveToElement(canvas).click().perform();
        assertTrue(pixel(canvas, 128, 128)[0] < before[0] + 20, "erased");
        driver.findElement(By.id("erase")).click();
        driver.findElement(By.id("clear-mask")).click();
        new Actions(driver).moveToElement(canvas).click().perform();
        assertTrue(pixel(canvas, 128, 128)[0] > before[0] + 50, "painted again");

        type("prompt", "a flower");
        type("steps", "5");
        driver.findElement(By.id("generate")).click();
        WebElement card = waitUntil(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".card.done")));
        List<WebElement> images = card.findElements(By.tagName("img"));
        assertEquals(2, images.size(), "the original beside the result");
        assertEquals("original", images.get(0).getAttribute("class"));
        WebElement result = card.findElement(By.cssSelector("img.result"));
        waitUntil(d -> ((Number) js("return arguments[0].naturalWidth", result)).intValue() == 16);
        assertTrue(card.findElement(By.className("params")).getText().contains("inpaint"));
        shot("inpaint-2-result");
    }

    @Test
    void pickAGalleryImageToInpaint() throws IOException {
        type("prompt", "a house");
        type("steps", "3");
        driver.findElement(By.id("generate")).click();
        WebElement card = waitUntil(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".card.done")));
        card.findElement(By.className("inpaint-this")).click();
        assertEquals("tiny-inpaint", new Select(driver.findElement(By.id("model"))).getFirstSelectedOption()
                .getAttribute("value"));
        assertEquals("a house", driver.findElement(By.id("prompt")).getAttribute("value"));
        WebElement canvas = driver.findElement(By.id("source-canvas"));
        // the generated picture is drawn on the canvas, ready for a mask
        waitUntil(d -> pixel(canvas, 128, 128)[3] == 255);
        shot("inpaint-0-from-gallery");
    }

    @Test
    void theTrainingMonitorShowsTheLossAndTheNewestSamplesAndRefreshes() throws IOException {
        waitUntil(d -> d.findElement(By.id("training")).isDisplayed());
        assertTrue(driver.findElement(By.id("training-info")).getText().contains("step 20, loss 0.2500"),
                driver.findElement(By.id("training-info")).getText());
        waitUntil(d -> ((Number) js("return document.getElementById('loss-curve').naturalWidth")).intValue() == 40);
        assertEquals("samples at step 20", driver.findElement(By.id("samples-caption")).getText());
        Files.write(trainDir.resolve("samples/step-000000040.png"), ServeApiTest.pngBytes(16, 16, 0x33cc33));
        waitUntil(d -> d.findElement(By.id("samples-caption")).getText().equals("samples at step 40"));
        shot("training-1-monitor");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    @Test
    void aPageOfAnotherSiteCanNeitherSubmitNorCancelJobs() throws Exception {
        String api = server.url() + "api/";
        String url = server.url().substring(0, server.url().length() - 1);
        // a job that runs for long, for the other site to try to cancel
        String running = ServeApiTest.JSON.readTree(ServeApiTest.post(api + "jobs", Map.of("model", "tiny",
                "prompt", "a long job", "steps", 1000, "numImages", 8)).body()).get("id").asText();
        ServeApiTest.awaitState(url, running, "running");
        int jobs = jobs(url).size();
        // the other site: http://localhost:PORT, a page whose requests need no preflight (no-cors fetches of
        // text/plain, a multipart form) and one that does (JSON)
        String page = "<!doctype html><title>another site</title>"
                + "<form id='f' method='post' enctype='multipart/form-data' action='" + api + "jobs'>"
                + "<input name='model' value='tiny'><input name='prompt' value='a form of another site'></form>"
                + "<script>window.results = [];"
                + "const plain = (path, body) => fetch('" + api + "' + path, {method: 'POST', mode: 'no-cors',"
                + " headers: {'Content-Type': 'text/plain'}, body: body}).then(() => results.push(path + ' sent'),"
                + " e => results.push(path + ' failed'));"
                + "plain('jobs', JSON.stringify({model: 'tiny', prompt: 'a fetch of another site'}));"
                + "plain('jobs/" + running + "/cancel', '{}');"
                + "fetch('" + api + "jobs', {method: 'POST', headers: {'Content-Type': 'application/json'},"
                + " body: JSON.stringify({model: 'tiny', prompt: 'cors'})}).then(r => results.push('cors read '"
                + " + r.status), e => results.push('cors refused'));</script>";
        HttpServer other = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        other.createContext("/", exchange -> {
            byte[] b = page.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, b.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(b);
            }
        });
        other.start();
        try {
            driver.get("http://localhost:" + other.getAddress().getPort() + "/");
            waitUntil(d -> ((Number) js("return window.results ? window.results.length : 0")).intValue() == 3);
            @SuppressWarnings("unchecked")
            List<String> results = (List<String>) js("return window.results");
            assertTrue(results.contains("cors refused"), results.toString());
            // the form: a top-level navigation, which shows the server's refusal
            js("document.getElementById('f').submit()");
            waitUntil(d -> d.getPageSource().contains("cross-site request refused"));
            shot("cross-site-form-refused");
        } finally {
            other.stop(0);
        }
        assertEquals(jobs, jobs(url).size(), "no job was submitted from the other site");
        // running still, or done on a fast machine: not cancelled
        String state = ServeApiTest.JSON.readTree(ServeApiTest.send(HttpRequest.newBuilder(
                URI.create(api + "jobs/" + running)).GET()).body()).get("state").asText();
        assertTrue(state.equals("running") || state.equals("done"), "the other site did not cancel job " + running
                + ": " + state);
        ServeApiTest.post(api + "jobs/" + running + "/cancel", Map.of());
        ServeApiTest.await(url, running);
    }

    private static JsonNode jobs(String url) throws Exception {
        return ServeApiTest.JSON.readTree(ServeApiTest.send(HttpRequest.newBuilder(URI.create(url + "/api/jobs"))
                .GET()).body()).get("jobs");
    }

    private static void type(String id, String text) {
        WebElement e = driver.findElement(By.id(id));
        e.clear();
        e.sendKeys(text);
    }

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** The canvas's RGBA at (x, y) of its own pixels. */
    private static int[] pixel(WebElement canvas, int x, int y) {
        @SuppressWarnings("unchecked")
        List<Number> p = (List<Number>) js("return Array.from(arguments[0].getContext('2d')"
                + ".getImageData(arguments[1], arguments[2], 1, 1).data)", canvas, x, y);
        return p.stream().mapToInt(Number::intValue).toArray();
    }

    private static <T> T waitUntil(java.util.function.Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, WAIT).pollingEvery(Duration.ofMillis(50)).until(condition::apply);
    }

    private static void shot(String name) throws IOException {
        PngFiles.writeAtomically(SHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
    }

    /** An executable named by the environment variable or found on the PATH; null when there is none. */
    static String find(String env, String... names) {
        String given = System.getenv(env);
        if (given != null && !given.isBlank()) {
            return Files.isExecutable(Path.of(given)) ? given : null;
        }
        String path = System.getenv("PATH");
        for (String name : names) {
            for (String d : (path == null ? "/usr/bin" : path).split(File.pathSeparator)) {
                Path p = Path.of(d, name);
                if (Files.isExecutable(p)) {
                    return p.toString();
                }
            }
        }
        return null;
    }
}
