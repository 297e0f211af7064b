package io.r1kit.pipeline.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.pipeline.report.ReportWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.io.UncheckedIOException;
import java.io.IOException;
import java.util.Comparator;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard and the report in a real headless Chromium: the page loads a run and draws its
 * metrics, gains the lines a run appends while it is open, overlays runs and an ablation's seeds,
 * opens a step's samples from a click on a chart; report.html opens from disk making no request at
 * all. Screenshots of the main views go to target/dashboard-screenshots/. Skipped, saying why, where
 * no Chromium can be found ($R1KIT_CHROMIUM, or chromium / google-chrome on the PATH).
 */
class DashboardBrowserTest {
    static final Path SHOTS = Path.of("target", "dashboard-screenshots");
    /** An upper bound only (conditions are polled every 100 ms): generous for a machine under heavy load. */
    static final Duration WAIT = Duration.ofSeconds(60);

    // deleted by stop(), best effort: a Chromium helper may still be writing its profile when JUnit's
    // own cleanup would run, and that must not fail the class
    @TempDir(cleanup = CleanupMode.NEVER)
    static Path tmp;
    static HeadlessChromium browser;
    static DashboardServer server;
    static Path runs;

    @BeforeAll
    static void start() throws Exception {
        Optional<Path> chromium = HeadlessChromium.find();
        assumeTrue(chromium.isPresent(), "SKIPPED: no Chromium found (set R1KIT_CHROMIUM or install Debian's chromium); "
                + "the dashboard's browser tests did not run");
        runs = tmp.resolve("runs");
        DashboardFixtures.run(runs, "alpha", 20, 0);
        DashboardFixtures.run(runs, "beta", 30, 0.3);
        DashboardFixtures.ablation(runs, "loss_type", 20);
        server = DashboardServer.start(runs, "127.0.0.1", 0);
        browser = HeadlessChromium.launch(chromium.get(), tmp.resolve("chromium-profile"));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (server != null) server.close();
        try (var paths = Files.walk(tmp)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort: what is left is in the system's temporary directory
        }
    }

    String url(String hash) {
        return "http://127.0.0.1:" + server.port() + "/#" + hash;
    }

    void open(String hash) throws Exception {
        browser.navigate(url(hash));
        browser.waitFor("window.r1kitDashboard && window.r1kitDashboard.ready", WAIT);
    }

    @Test
    void showsARunsMetricsAndGainsTheLinesItAppendsWhileOpen() throws Exception {
        open("runs=alpha&smoothing=0.6");
        browser.waitFor("document.querySelectorAll('#view-charts .chart').length > 0", WAIT);
        assertEquals("r1_zero", browser.eval("document.getElementById('stage').value").asText(), "the latest stage is shown");
        JsonNode titles = browser.eval("[...document.querySelectorAll('#view-charts .chart .u-title')].map(e => e.textContent)");
        for (String k : List.of("reward", "rewards/accuracy/mean", "kl", "entropy", "completions/mean_length", "eval/accuracy")) {
            assertTrue(titles.toString().contains("\"" + k + "\""), k + " in " + titles);
        }
        assertEquals(20, browser.eval("r1kitDashboard.chartPoints('reward')").asInt());
        assertEquals(2, browser.eval("r1kitDashboard.chartPoints('eval/accuracy')").asInt());
        // the canvas is drawn: some pixels are neither background nor transparent
        assertTrue(browser.eval("(() => { const c = document.querySelector('.chart canvas'); const d = c.getContext('2d')"
                + ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()")
                .asInt() > 500, "the reward chart has drawn pixels");
        browser.screenshot(SHOTS.resolve("dashboard-charts.png"));

        // the run goes on: five more steps (and an eval line at step 30 would come later)
        DashboardFixtures.appendSteps(runs.resolve("alpha"), 21, 25, 0);
        browser.waitFor("r1kitDashboard.chartPoints('reward') === 25", WAIT);
        assertEquals(25, browser.eval("r1kitDashboard.points('alpha', 'r1_zero', 'reward')").asInt());

        // zoom: a real drag across steps 5..15 of the reward chart narrows its x scale
        JsonNode span = browser.eval("(() => { const c = r1kitDashboard.charts.find(c => c.key === 'reward'); "
                + "const r = c.u.over.getBoundingClientRect(); return [r.left + c.u.valToPos(5, 'x'), r.left + c.u.valToPos(15, 'x'), "
                + "r.top + r.height / 2]; })()");
        double x0 = span.get(0).asDouble(), x1 = span.get(1).asDouble(), y = span.get(2).asDouble();
        browser.call("Input.dispatchMouseEvent", HeadlessChromium.params("type", "mouseMoved", "x", x0, "y", y));
        browser.call("Input.dispatchMouseEvent", HeadlessChromium.params("type", "mousePressed", "x", x0, "y", y, "button", "left",
                "clickCount", 1));
        for (int i = 1; i <= 5; i++) {
            browser.call("Input.dispatchMouseEvent", HeadlessChromium.params("type", "mouseMoved", "x", x0 + (x1 - x0) * i / 5, "y", y,
                    "button", "left", "buttons", 1));
        }
        browser.call("Input.dispatchMouseEvent", HeadlessChromium.params("type", "mouseReleased", "x", x1, "y", y, "button", "left",
                "clickCount", 1));
        JsonNode scale = browser.eval("(() => { const c = r1kitDashboard.charts.find(c => c.key === 'reward'); "
                + "return [c.u.scales.x.min, c.u.scales.x.max]; })()");
        // half a step either way: the drag ends are pixel positions
        assertEquals(5, scale.get(0).asDouble(), 0.5, "zoomed in: " + scale);
        assertEquals(15, scale.get(1).asDouble(), 0.5, "zoomed in: " + scale);

        // log scale: the y scale becomes logarithmic
        browser.eval("document.getElementById('logscale').click()");
        assertEquals(3, browser.eval("r1kitDashboard.charts.find(c => c.key === 'kl').u.scales.y.distr").asInt());
        browser.eval("document.getElementById('logscale').click()");

        // smoothing off: one line per run, the raw values
        browser.eval("(() => { const s = document.getElementById('smoothing'); s.value = 0; s.dispatchEvent(new Event('input')); })()");
        assertEquals("[\"alpha\"]", browser.eval("r1kitDashboard.chartSeries('reward')").toString());
        browser.eval("(() => { const s = document.getElementById('xaxis'); s.value = 'relative'; s.dispatchEvent(new Event('change')); })()");
        assertEquals(25, browser.eval("r1kitDashboard.chartPoints('reward')").asInt(), "wall-time axis from wall_time");
        assertTrue(browser.consoleErrors().isEmpty(), browser.consoleErrors().toString());
    }

    @Test
    void overlaysTwoRunsAndAnAblationsVariantsWithTheSeedsMeanAndBand() throws Exception {
        open("runs=alpha,beta&smoothing=0.6");
        browser.waitFor("r1kitDashboard.chartSeries('reward').length > 0", WAIT);
        JsonNode labels = browser.eval("r1kitDashboard.chartSeries('reward')");
        assertEquals("[\"alpha (raw)\",\"alpha\",\"beta (raw)\",\"beta\"]", labels.toString());
        assertEquals(30, browser.eval("r1kitDashboard.chartPoints('reward')").asInt(), "x is the union of both runs' steps");
        browser.screenshot(SHOTS.resolve("dashboard-overlay.png"));

        // the ablation's checkbox selects its four runs; seeds of a variant become mean ± std
        browser.eval("(() => { const b = document.querySelector('input[data-ablation=\"ablations/loss_type\"]'); b.click(); })()");
        browser.waitFor("r1kitDashboard.chartSeries('reward').some(l => l.includes('(2 seeds)'))", WAIT);
        labels = browser.eval("r1kitDashboard.chartSeries('reward')");
        for (String v : List.of("loss_type=grpo", "loss_type=dapo")) {
            String mean = "loss_type · " + v + " (2 seeds)";
            assertTrue(labels.toString().contains("\"" + mean + "\"") && labels.toString().contains(mean + " +σ"), v + " in " + labels);
        }
        // the band is the seeds' spread: at step 1 the mean of the two seeds' first value, smoothing off
        browser.eval("(() => { const s = document.getElementById('smoothing'); s.value = 0; s.dispatchEvent(new Event('input')); })()");
        double seed1 = DashboardFixtures.reward(1, 0.03), seed2 = DashboardFixtures.reward(1, 0.06);   // variant grpo, seeds 1 and 2
        JsonNode series = browser.eval("(() => { const c = r1kitDashboard.charts.find(c => c.key === 'reward'); "
                + "const i = c.u.series.findIndex(s => s.label === 'loss_type · loss_type=grpo (2 seeds)'); "
                + "return [c.u.data[i][0], c.u.data[i - 1][0], c.u.data[i - 2][0]]; })()");
        double mean = (seed1 + seed2) / 2, sd = Math.abs(seed1 - seed2) / Math.sqrt(2);
        // fixtures write 5 decimals: tolerance 1e-5
        assertEquals(mean, series.get(0).asDouble(), 1e-5, "mean of the seeds");
        assertEquals(mean - sd, series.get(1).asDouble(), 1e-5, "lower band edge: mean − std");
        assertEquals(mean + sd, series.get(2).asDouble(), 1e-5, "upper band edge: mean + std");
        browser.eval("(() => { const s = document.getElementById('smoothing'); s.value = 0.6; s.dispatchEvent(new Event('input')); })()");
        JsonNode at = browser.eval("(() => { const c = r1kitDashboard.charts.find(c => c.key === 'reward'); "
                + "const r = c.u.over.getBoundingClientRect(); return [r.left + c.u.valToPos(12, 'x'), r.top + 20]; })()");
        browser.call("Input.dispatchMouseEvent", HeadlessChromium.params("type", "mouseMoved", "x", at.get(0).asDouble(), "y", at.get(1).asDouble()));
        browser.waitFor("document.querySelector('.chart .u-legend .u-value') && /\\d/.test(document.querySelector('.chart .u-legend .u-value').textContent)",
                WAIT);
        browser.screenshot(SHOTS.resolve("dashboard-ablation.png"));
    }

    @Test
    void aClickOnAChartOpensThatStepsSamplesWithThinkAndAnswerApart() throws Exception {
        // the run wrote just now: its unfinished stage counts as running (after 2 minutes without a write, as stopped)
        Files.setLastModifiedTime(runs.resolve("alpha/metrics.jsonl"), FileTime.from(Instant.now()));
        open("runs=alpha&smoothing=0");
        browser.waitFor("r1kitDashboard.chartPoints('reward') > 0", WAIT);
        // page coordinates of the reward point at step 10
        JsonNode xy = browser.eval("(() => { const c = r1kitDashboard.charts.find(c => c.key === 'reward'); "
                + "const r = c.u.over.getBoundingClientRect(); const i = c.u.data[0].indexOf(10); "
                + "return [r.left + c.u.valToPos(10, 'x'), r.top + c.u.valToPos(c.u.data[1][i], 'y')]; })()");
        browser.click(xy.get(0).asDouble(), xy.get(1).asDouble());
        browser.waitFor("!document.getElementById('view-samples').classList.contains('hidden') && document.querySelectorAll('.sample').length > 0",
                WAIT);
        assertEquals("10", browser.eval("document.getElementById('s-step').value").asText(), "the clicked step");
        assertEquals(6, browser.eval("document.querySelectorAll('.sample').length").asInt());
        assertEquals(2, browser.eval("document.querySelectorAll('.prompt-group').length").asInt(), "grouped by prompt");
        assertEquals("2+3 is 5", browser.eval("document.querySelector('.sample .part-think').textContent").asText());
        assertEquals("5", browser.eval("document.querySelector('.sample .part-answer').textContent").asText());
        String chips = browser.eval("document.querySelector('.sample .chips').textContent").asText();
        for (String c : List.of("✓ correct", "reward 1.5", "accuracy 1", "format 0.5", "advantage +0.9", "14 tokens")) {
            assertTrue(chips.contains(c), c + " in " + chips);
        }
        assertEquals(0, browser.eval("document.querySelectorAll('.completion b').length").asInt(), "a completion's HTML is shown as text");
        assertTrue(browser.eval("document.getElementById('samples').textContent").asText().contains("<b>very</b>"));
        browser.screenshot(SHOTS.resolve("dashboard-samples.png"));

        int[] expected = {3, 3, 1};   // correct, wrong, truncated among the six
        String[] filters = {"correct", "wrong", "truncated"};
        for (int i = 0; i < 3; i++) {
            browser.eval("document.querySelector('input[name=s-filter][value=" + filters[i] + "]').click()");
            browser.waitFor("document.querySelectorAll('.sample').length === " + expected[i], WAIT);
        }
        browser.eval("document.querySelector('input[name=s-filter][value=all]').click()");
        browser.eval("document.getElementById('s-prev').click()");
        browser.waitFor("document.getElementById('s-step').value === '5'", WAIT);

        browser.eval("document.querySelector('#tabs button[data-tab=config]').click()");
        browser.waitFor("document.querySelectorAll('table.stages tr[data-stage]').length === 3", WAIT);
        assertEquals("done running pending", browser.eval("[...document.querySelectorAll('table.stages .status')].map(e => e.textContent).join(' ')")
                .asText());
        browser.eval("document.querySelector('#tabs button[data-tab=eval]').click()");
        browser.waitFor("document.querySelector('#view-eval th') !== null", WAIT);
        assertTrue(browser.eval("document.getElementById('view-eval').textContent").asText().contains("base_eval"));
    }

    @Test
    void theReportOpensFromDiskWithTheSameChartsAndNoNetworkRequest() throws Exception {
        Path run = runs.resolve("beta");
        Path report = ReportWriter.write(run);
        String fileUrl = report.toUri().toString();
        browser.navigate(fileUrl);
        browser.waitFor("window.r1kitDashboard && window.r1kitDashboard.ready", WAIT);
        assertEquals(30, browser.eval("r1kitDashboard.chartPoints('reward')").asInt());
        assertTrue(browser.eval("document.getElementById('mode').textContent").asText().contains("report"));
        browser.screenshot(SHOTS.resolve("report-charts.png"));
        browser.eval("document.querySelector('#tabs button[data-tab=samples]').click()");
        browser.waitFor("document.querySelectorAll('.sample').length === 6", WAIT);
        browser.screenshot(SHOTS.resolve("report-samples.png"));
        assertNoNetwork(fileUrl);

        // the check itself catches a load: the same report with one external image
        String html = Files.readString(report);
        Path probe = run.resolve("probe.html");
        Files.writeString(probe, html.replace("<body>", "<body><img src=\"http://127.0.0.1:9/probe.png\">"));
        browser.navigate(probe.toUri().toString());
        browser.waitFor("window.r1kitDashboard && window.r1kitDashboard.ready", WAIT);
        HeadlessChromium.waitUntil(() -> browser.requestedUrls().size() > 1, Duration.ofSeconds(3));
        assertTrue(browser.requestedUrls().stream().anyMatch(u -> u.contains("probe.png"))
                        || browser.eval("window.__violations ? window.__violations.length : 0").asInt() > 0
                        || browser.eval("performance.getEntriesByType('resource').length").asInt() > 0,
                "an external image is seen: " + browser.requestedUrls());
    }

    private void assertNoNetwork(String fileUrl) throws Exception {
        List<String> urls = browser.requestedUrls();
        assertEquals(List.of(fileUrl), urls, "the report is the only thing loaded");
        assertEquals(0, browser.eval("performance.getEntriesByType('resource').length").asInt(), "no script, style, image, font or fetch");
        assertFalse(browser.eval("document.documentElement.outerHTML").asText().matches("(?s).*(src|href)=\"(https?:)?//.*"),
                "no external reference in the page");
    }
}
