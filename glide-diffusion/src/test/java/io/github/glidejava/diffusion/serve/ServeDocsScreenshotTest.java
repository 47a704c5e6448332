package io.github.glidejava.diffusion.serve;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;

import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Makes the screenshot of the page in docs/usage.md: the built-in model, two prompts in the gallery and, with
 * {@code -Dglide.serve.trainDir=DIR}, the monitor of a training run ({@code -Dglide.serve.model=FILE} serves another
 * checkpoint under the built-in model's name). Runs only when asked:
 * {@code mvn test -pl glide-diffusion -am -Dtest=ServeDocsScreenshotTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dglide.serve.screenshot=$PWD/docs/serve.png}.
 */
@EnabledIfSystemProperty(named = "glide.serve.screenshot", matches = ".+")
class ServeDocsScreenshotTest {
    @Test
    void screenshotOfThePage() throws Exception {
        String chromium = ServeBrowserTest.find("CHROME_BIN", "chromium", "chromium-browser", "google-chrome");
        String chromedriver = ServeBrowserTest.find("CHROMEDRIVER", "chromedriver");
        assertNotNull(chromium, "chromium");
        assertNotNull(chromedriver, "chromedriver");
        String trainDir = System.getProperty("glide.serve.trainDir");
        String model = System.getProperty("glide.serve.model");
        GlideServer.Builder b = GlideServer.builder().port(0).model("emoji32", model == null || model.isBlank()
                ? GlidePipeline.builder().embeddedModel().build()
                : GlidePipeline.builder().base(GlideModel.load(Path.of(model))).withoutUpsampler().build());
        if (trainDir != null && !trainDir.isBlank()) {
            b.trainDir(Path.of(trainDir));
        }
        ChromeDriver driver = null;
        try (GlideServer server = b.build().start()) {
            driver = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(new File(chromedriver))
                    .usingAnyFreePort().build(), new ChromeOptions().setBinary(chromium).addArguments(
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,1900"));
            driver.get(server.url());
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofMinutes(10));
            wait.until(d -> !new Select(d.findElement(By.id("model"))).getOptions().isEmpty());
            int cards = 0;
            for (String[] job : new String[][]{{"blue heart", "3"}, {"a red apple", "42"}}) {
                set(driver, "prompt", job[0]);
                set(driver, "seed", job[1]);
                set(driver, "num-images", "4");
                new Select(driver.findElement(By.id("sampler"))).selectByValue("ddim");
                set(driver, "steps", "50");
                driver.findElement(By.id("generate")).click();
                int expected = ++cards;
                wait.until(d -> d.findElements(By.cssSelector(".card.done")).size() == expected);
            }
            if (trainDir != null) {
                wait.until(d -> d.findElement(By.id("train-samples")).getAttribute("src") != null);
            }
            Thread.sleep(1000);
            PngFiles.writeAtomically(Path.of(System.getProperty("glide.serve.screenshot")),
                    driver.getScreenshotAs(OutputType.BYTES));
        } finally {
            if (driver != null) {
                driver.quit();
            }
        }
    }

    private static void set(ChromeDriver driver, String id, String text) {
        WebElement e = driver.findElement(By.id(id));
        e.clear();
        e.sendKeys(text);
    }
}
