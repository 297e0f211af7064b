package io.r1kit.pipeline.dashboard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The dashboard page: one HTML template and one script ({@code dashboard.js}, with the vendored
 * uPlot) that run either against the server's JSON API or, in a report, against data embedded in
 * the page. The report form inlines every script and style and forbids any load by its
 * Content-Security-Policy, so it opens from disk with no network at all.
 */
public final class DashboardPage {
    static final String RESOURCES = "/io/r1kit/pipeline/dashboard/";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Files the server hands out under /assets/, with their content types: nothing else is served from the jar. */
    static final Map<String, String> ASSETS = Map.of(
            "dashboard.js", "text/javascript; charset=utf-8",
            "dashboard.css", "text/css; charset=utf-8",
            "uPlot.iife.min.js", "text/javascript; charset=utf-8",
            "uPlot.min.css", "text/css; charset=utf-8",
            "uPlot.LICENSE", "text/plain; charset=utf-8");

    /**
     * Above this many bytes of sample files (all runs of a report together), a report embeds evenly
     * spaced steps only (the first and last kept).
     */
    static final long SAMPLE_BYTES_LIMIT = 24L << 20;

    private DashboardPage() {}

    static String asset(String name) {
        String path = RESOURCES + (name.startsWith("uPlot") ? "vendor/" : "") + name;
        try (InputStream in = DashboardPage.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing resource " + path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + path, e);
        }
    }

    /** The page the server sends: scripts and styles from /assets/, data from /api/. */
    public static String serverPage(String title) {
        String head = "<link rel=\"stylesheet\" href=\"assets/uPlot.min.css\"><link rel=\"stylesheet\" href=\"assets/dashboard.css\">"
                + "<script src=\"assets/uPlot.iife.min.js\"></script><script src=\"assets/dashboard.js\" defer></script>";
        return template(title, head, "<noscript>The dashboard needs JavaScript.</noscript>");
    }

    /**
     * The self-contained page: everything inline, the runs' data embedded, every network load
     * forbidden; {@code noscriptHtml} is what a viewer without JavaScript shows instead.
     */
    public static String staticPage(String title, ObjectNode data, String noscriptHtml) {
        String csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; "
                + "connect-src 'none'";
        String head = "<meta http-equiv=\"Content-Security-Policy\" content=\"" + csp + "\">"
                + "<style>" + asset("uPlot.min.css") + "</style><style>" + asset("dashboard.css") + "</style>"
                + "<script>window.R1KIT_DATA = " + scriptSafeJson(data) + ";</script>"
                + "<script>/* uPlot 1.6.32, " + asset("uPlot.LICENSE").replace("*/", "* /") + "*/\n"
                + scriptSafe(asset("uPlot.iife.min.js")) + "</script>"
                + "<script>" + scriptSafe(asset("dashboard.js")) + "</script>";
        return template(title, head, "<noscript>" + noscriptHtml + "</noscript>");
    }

    private static String template(String title, String head, String noscript) {
        return asset("index.html").replace("<!--TITLE-->", esc(title)).replace("<!--NOSCRIPT-->", noscript).replace("<!--HEAD-->", head);
    }

    /**
     * Everything the page needs about the runs under {@code root}, for a report: the run list,
     * each run's summary, all its metrics lines and its logged samples.
     */
    public static ObjectNode embeddedData(Path root, String title) {
        RunsTree tree = RunsTree.scan(root);
        ObjectNode d = JSON.createObjectNode();
        d.put("title", title);
        d.put("generated", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        d.set("runs", runList(tree));
        ObjectNode summaries = d.putObject("summaries"), metrics = d.putObject("metrics"), samples = d.putObject("samples");
        long now = System.currentTimeMillis();
        long perRun = SAMPLE_BYTES_LIMIT / Math.max(1, tree.runs().size());
        for (RunsTree.Run r : tree.runs()) {
            MetricsTail tail = new MetricsTail(r.dir().resolve("metrics.jsonl"));
            tail.refresh();
            summaries.set(r.id(), RunView.summary(r, tail, now));
            ArrayNode rows = metrics.putArray(r.id());
            for (MetricsTail.Line l : tail.since(0)) rows.add(l.node());
            ObjectNode bySt = samples.putObject(r.id());
            for (Map.Entry<String, List<Long>> e : embeddedSteps(r.dir(), perRun).entrySet()) {
                ObjectNode bySteps = bySt.putObject(e.getKey());
                for (long step : e.getValue()) {
                    RunView.samples(r.dir(), e.getKey(), step).ifPresent(a -> bySteps.set(Long.toString(step), a));
                }
            }
        }
        return d;
    }

    /** The steps whose samples a report embeds: all, unless their files pass {@code limit} bytes. */
    static Map<String, List<Long>> embeddedSteps(Path runDir, long limit) {
        Map<String, List<Long>> all = RunView.sampleSteps(runDir);
        long bytes = 0;
        int files = 0;
        for (Map.Entry<String, List<Long>> e : all.entrySet()) {
            for (long s : e.getValue()) {
                bytes += size(runDir.resolve("samples").resolve(e.getKey()).resolve("step-" + s + ".jsonl"));
                files++;
            }
        }
        if (bytes <= limit || files == 0) return all;
        double keep = (double) limit / bytes;
        for (Map.Entry<String, List<Long>> e : all.entrySet()) {
            List<Long> steps = e.getValue();
            int n = Math.max(2, (int) Math.floor(steps.size() * keep));
            List<Long> picked = new ArrayList<>();
            for (int i = 0; i < n && i < steps.size(); i++) {
                long s = steps.get((int) Math.round(i * (steps.size() - 1) / (double) Math.max(1, n - 1)));
                if (!picked.contains(s)) picked.add(s);
            }
            e.setValue(picked);
        }
        return all;
    }

    /** The run list as the page reads it (from /api/runs or the embedded data). */
    static ObjectNode runList(RunsTree tree) {
        ObjectNode o = JSON.createObjectNode();
        o.put("root", tree.root().getFileName() == null ? tree.root().toString() : tree.root().getFileName().toString());
        ArrayNode runs = o.putArray("runs");
        for (RunsTree.Run r : tree.runs()) {
            ObjectNode j = runs.addObject();
            j.put("id", r.id());
            j.put("name", r.name());
            if (r.ablation() != null) j.put("ablation", r.ablation());
            if (r.variant() != null) j.put("variant", r.variant());
            if (r.seed() != null) j.put("seed", r.seed());
        }
        ArrayNode abl = o.putArray("ablations");
        for (RunsTree.AblationDir a : tree.ablations()) {
            ObjectNode j = abl.addObject();
            j.put("id", a.id());
            j.put("name", a.dir().getFileName().toString());
            ArrayNode ids = j.putArray("runs");
            a.runIds().forEach(ids::add);
        }
        return o;
    }

    /** JSON that can sit inside a script element: no "&lt;/script", "&lt;!--" or U+2028/9 can end or bend it. */
    static String scriptSafeJson(Object value) {
        try {
            return JSON.writeValueAsString(value).replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029");
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A script's text made safe to inline: "&lt;/script" inside it (in a string) would close the element. */
    static String scriptSafe(String js) {
        return js.replace("</script", "<\\/script").replace("<!--", "<\\!--");
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
