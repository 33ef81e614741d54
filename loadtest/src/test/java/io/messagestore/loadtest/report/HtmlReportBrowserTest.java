package io.messagestore.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.messagestore.loadtest.CommandRunner;
import io.messagestore.loadtest.gateway.FakeGateway;
import io.messagestore.loadtest.gateway.GatewayUnderTest;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opens the html report in headless Chromium: the charts must draw, and nothing may fail. */
class HtmlReportBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    static Path dir;
    static Path page;

    @BeforeAll
    static void writeReportOfARealRun() {
        assumeTrue(Files.isExecutable(CHROMIUM), "chromium is not installed");
        page = dir.resolve("report.html");
        try (GatewayUnderTest gateway = GatewayUnderTest.start()) {
            CommandRunner.Result result = CommandRunner.run("--insecure",
                    "--call", "messagestore.v1.MessageStore/SendMessage",
                    "-d", "{\"thread_id\":\"html-{{.WorkerID}}\",\"content\":\"</script><b>x</b>\"}",
                    "-m", "{\"authorization\":\"Bearer " + FakeGateway.TOKEN + "\"}",
                    "-z", "1200ms", "--rps", "300", "-c", "4", "-O", "html", "-o", page.toString(),
                    "--name", "html <test>", gateway.target());
            assertThat(result.exitCode()).as(result.stderr()).isZero();
        }
    }

    private static String chromium(Path userDir, String... extra) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + userDir,
                "--window-size=1200,900", "--enable-logging=stderr", "--v=0"));
        command.addAll(List.of(extra));
        command.add(page.toUri().toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new String(output, StandardCharsets.UTF_8);
    }

    @Test
    void chartsRenderWithoutScriptOrConsoleErrors() throws Exception {
        String output = chromium(Files.createTempDirectory(dir, "profile"), "--dump-dom");

        assertThat(output).contains("<div id=\"render-ok\" data-charts=\"3\"");
        assertThat(output).doesNotContainPattern("<body[^>]*data-js-error");
        assertThat(output.lines().filter(line -> line.contains(":CONSOLE")).toList()).isEmpty();
        assertThat(output).contains("html &lt;test&gt;");
    }

    @Test
    void screenshotShowsDrawnChartsNotABlankPage() throws Exception {
        Path png = dir.resolve("report.png");
        chromium(Files.createTempDirectory(dir, "profile"), "--screenshot=" + png);

        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image).isNotNull();
        long nonWhite = 0;
        long chartBlue = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                if (rgb != 0xffffff) {
                    nonWhite++;
                }
                int r = rgb >> 16 & 0xff;
                int g = rgb >> 8 & 0xff;
                int b = rgb & 0xff;
                if (b > 180 && r < 90 && g > 90 && g < 140) { // the histogram bars' #3b6fd4
                    chartBlue++;
                }
            }
        }
        long pixels = (long) image.getWidth() * image.getHeight();
        assertThat(nonWhite).isGreaterThan(pixels / 20);
        assertThat(colours.size()).isGreaterThan(50);
        assertThat(chartBlue).isGreaterThan(2000);
    }

    @Test
    void thePageFetchesNothingFromTheNetwork() throws Exception {
        String html = Files.readString(page);

        assertThat(html).doesNotContain("<link").doesNotContain(" src=").doesNotContain("@import");
        Matcher urls = Pattern.compile("https?://[^\"' )]+").matcher(html);
        while (urls.find()) {
            assertThat(urls.group()).isEqualTo("http://www.w3.org/2000/svg");
        }
    }
}
