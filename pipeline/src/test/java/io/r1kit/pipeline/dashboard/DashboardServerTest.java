package io.r1kit.pipeline.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The dashboard's server without a browser: what it finds, what it answers, and what it refuses. */
class DashboardServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Status line and body of a raw HTTP/1.1 GET (raw so that nothing normalises the path on the way). */
    record Reply(int status, String body) {}

    static Reply get(InetAddress addr, int port, String target, String host) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(addr, port), 2000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(all.substring(9, 12));
            int body = all.indexOf("\r\n\r\n");
            return new Reply(status, body < 0 ? "" : all.substring(body + 4));
        }
    }

    static Reply get(DashboardServer s, String target) throws IOException {
        return get(InetAddress.getLoopbackAddress(), s.port(), target, "127.0.0.1:" + s.port());
    }

    @Test
    void findsRunsAndAnAblationsVariantsAndSeeds(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        DashboardFixtures.run(runs, "alpha", 12, 0);
        DashboardFixtures.ablation(runs, "loss_type", 6);
        RunsTree t = RunsTree.scan(runs);
        assertEquals(List.of("ablations/loss_type/loss_type=dapo/seed-1", "ablations/loss_type/loss_type=dapo/seed-2",
                "ablations/loss_type/loss_type=grpo/seed-1", "ablations/loss_type/loss_type=grpo/seed-2", "alpha"),
                t.runs().stream().map(RunsTree.Run::id).toList());
        assertEquals(1, t.ablations().size());
        RunsTree.Run r = t.run("ablations/loss_type/loss_type=grpo/seed-2").orElseThrow();
        assertEquals("ablations/loss_type", r.ablation());
        assertEquals("loss_type=grpo", r.variant());
        assertEquals(2L, r.seed());
        assertEquals(".", RunsTree.scan(runs.resolve("alpha")).runs().get(0).id(), "a run directory given as the root is the run '.'");
    }

    @Test
    void summaryHasStageStatusProgressEvalAndSampleSteps(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        Path dir = DashboardFixtures.run(runs, "alpha", 12, 0);
        RunsTree.Run run = RunsTree.scan(runs).run("alpha").orElseThrow();
        MetricsTail tail = new MetricsTail(dir.resolve("metrics.jsonl"));
        tail.refresh();
        long now = Files.getLastModifiedTime(dir.resolve("metrics.jsonl")).toMillis();
        JsonNode s = RunView.summary(run, tail, now + 1000);
        JsonNode st = s.get("stages");
        assertEquals("done", st.get(0).get("status").asText());
        assertEquals("running", st.get(1).get("status").asText(), st.toString());
        assertEquals(12, st.get(1).get("step").asLong());
        assertEquals(12 / 40.0, st.get(1).get("progress").asDouble(), 1e-12);
        assertEquals("pending", st.get(2).get("status").asText());
        assertEquals("stopped", RunView.summary(run, tail, now + RunView.ACTIVE_MILLIS + 1000).get("stages").get(1).get("status").asText(),
                "no write for a while and no finish marker: the run stopped");
        assertEquals("[5,10]", s.get("samples").get("r1_zero").toString());
        assertTrue(s.get("eval_html").asText().contains("<th>accuracy</th>"), s.get("eval_html").asText());
        assertTrue(s.get("config").asText().contains("name: alpha"));
    }

    @Test
    void aReportThinsOutTheEmbeddedSampleStepsPastItsLimitKeepingFirstAndLast(@TempDir Path tmp) throws Exception {
        Path dir = DashboardFixtures.run(tmp, "alpha", 50, 0);   // samples at steps 5, 10, ..., 50
        long one = Files.size(dir.resolve("samples/r1_zero/step-50.jsonl"));   // the largest (step-5 has one digit less per line)
        assertEquals(List.of(5L, 10L, 15L, 20L, 25L, 30L, 35L, 40L, 45L, 50L), DashboardPage.embeddedSteps(dir, 100 * one).get("r1_zero"));
        List<Long> thin = DashboardPage.embeddedSteps(dir, 4 * one).get("r1_zero");
        assertEquals(4, thin.size(), thin.toString());
        assertEquals(5L, thin.get(0));
        assertEquals(50L, thin.get(thin.size() - 1));
    }

    @Test
    void metricsTailKeepsATornLineBackAndStartsOverWhenTheFileIsRewritten(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        Files.writeString(f, "{\"stage\":\"a\",\"step\":1}\n{\"stage\":\"a\",\"st");
        MetricsTail t = new MetricsTail(f);
        assertTrue(t.refresh());
        assertEquals(1, t.size());
        long gen = t.generation();
        Files.writeString(f, "ep\":2}\n", StandardOpenOption.APPEND);
        assertTrue(t.refresh());
        assertEquals(2, t.size(), "the line is read once its newline is there");
        assertEquals(2, t.progress().get("a").lastStep());
        assertFalse(t.refresh(), "nothing new");
        assertEquals(gen, t.generation());
        // a resumed run drops the steps after its checkpoint: a new file is renamed over the old one
        Path tmpFile = tmp.resolve("metrics.jsonl.tmp");
        Files.writeString(tmpFile, "{\"stage\":\"a\",\"step\":1}\n");
        Files.move(tmpFile, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertTrue(t.refresh());
        assertEquals(1, t.size());
        assertTrue(t.generation() > gen, "followers learn that their rows are stale");
    }

    @Test
    void apiServesMetricsIncrementallyAndResetsAfterARewrite(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        Path dir = DashboardFixtures.run(runs, "alpha", 10, 0);
        try (DashboardServer s = DashboardServer.start(runs, "127.0.0.1", 0)) {
            JsonNode all = JSON.readTree(get(s, "/api/metrics?id=alpha&from=0&gen=-1").body());
            assertTrue(all.get("reset").asBoolean());
            int n = all.get("rows").size();
            assertEquals(2 + 10 + 1, n, "2 pretrain lines, 10 steps, 1 eval line");
            String gen = all.get("gen").asText();
            DashboardFixtures.appendSteps(dir, 11, 12, 0);
            JsonNode more = JSON.readTree(get(s, "/api/metrics?id=alpha&from=" + n + "&gen=" + gen).body());
            assertFalse(more.get("reset").asBoolean());
            assertEquals(2, more.get("rows").size());
            assertEquals(11, more.get("rows").get(0).get("step").asInt());
            Files.writeString(dir.resolve("metrics.jsonl.new"), "{\"stage\":\"r1_zero\",\"step\":1,\"reward\":0.5}\n");
            Files.move(dir.resolve("metrics.jsonl.new"), dir.resolve("metrics.jsonl"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            JsonNode after = JSON.readTree(get(s, "/api/metrics?id=alpha&from=" + (n + 2) + "&gen=" + gen).body());
            assertTrue(after.get("reset").asBoolean(), "a rewritten file is sent whole");
            assertEquals(1, after.get("rows").size());
            JsonNode samples = JSON.readTree(get(s, "/api/samples?id=alpha&stage=r1_zero&step=5").body());
            assertEquals(6, samples.size());
            assertEquals(200, get(s, "/").status());
            assertTrue(get(s, "/assets/uPlot.iife.min.js").body().contains("uPlot"));
            assertTrue(JSON.readTree(get(s, "/api/runs").body()).get("runs").get(0).get("id").asText().equals("alpha"));
        }
    }

    @Test
    void nothingOutsideTheRunsDirectoryCanBeRead(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        DashboardFixtures.run(runs, "alpha", 10, 0);
        Files.writeString(tmp.resolve("secret.txt"), "TOP-SECRET");
        Files.createDirectories(tmp.resolve("outside/samples/x"));
        Files.writeString(tmp.resolve("outside/config.yaml"), "name: TOP-SECRET\n");
        Files.writeString(tmp.resolve("outside/samples/x/step-1.jsonl"), "{\"completion\":\"TOP-SECRET\"}\n");
        try (DashboardServer s = DashboardServer.start(runs, "127.0.0.1", 0)) {
            for (String target : List.of("/../secret.txt", "/../../secret.txt", "/assets/../../secret.txt", "/assets/..%2f..%2fsecret.txt",
                    "/%2e%2e/secret.txt", "/api/run?id=../outside", "/api/run?id=..%2Foutside", "/api/run?id=alpha/../../outside",
                    "/api/metrics?id=../outside&from=0", "/api/samples?id=../outside&stage=x&step=1",
                    "/api/samples?id=alpha&stage=../../../outside/samples/x&step=1", "/api/samples?id=alpha&stage=..&step=1",
                    "/api/run?id=" + tmp.resolve("outside").toAbsolutePath(), "/secret.txt", "/alpha/config.yaml")) {
                Reply r = get(s, target);
                assertEquals(404, r.status(), target + " -> " + r.body());
                assertFalse(r.body().contains("TOP-SECRET"), target);
            }
            assertEquals(200, get(s, "/api/run?id=alpha").status(), "the runs themselves are served");
        }
    }

    @Test
    void listensOnLoopbackOnlyUnlessAHostIsGiven(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        DashboardFixtures.run(runs, "alpha", 3, 0);
        Optional<InetAddress> external = externalAddress();
        try (DashboardServer s = DashboardServer.start(runs, "127.0.0.1", 0)) {
            assertTrue(s.address().getAddress().isLoopbackAddress());
            assertEquals(403, get(s.address().getAddress(), s.port(), "/api/runs", "evil.example:" + s.port()).status(),
                    "a page elsewhere cannot reach it by rebinding a name to 127.0.0.1");
            assertEquals(200, get(s.address().getAddress(), s.port(), "/api/runs", "localhost:" + s.port()).status());
            assumeTrue(external.isPresent(), "this machine has no non-loopback IPv4 address to try the binding from");
            assertThrows(ConnectException.class, () -> get(external.get(), s.port(), "/api/runs", external.get().getHostAddress()),
                    "not reachable on " + external.get());
        }
        try (DashboardServer s = DashboardServer.start(runs, "0.0.0.0", 0)) {
            Reply r = get(external.get(), s.port(), "/api/runs", external.get().getHostAddress() + ":" + s.port());
            assertEquals(200, r.status(), "--host 0.0.0.0 opens it deliberately");
        }
    }

    @Test
    void theCommandNamesAMissingDirectoryAndABusyPort(@TempDir Path tmp) throws Exception {
        Cli.Result r = Cli.run("dashboard", tmp.resolve("nope").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("nope is not a directory"), r.err());
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Cli.Result b = Cli.run("dashboard", tmp.toString(), "--port", Integer.toString(busy.getLocalPort()));
            assertEquals(2, b.exit());
            assertTrue(b.err().contains("cannot listen on 127.0.0.1:" + busy.getLocalPort()) && b.err().contains("--port"), b.err());
        }
    }

    static Optional<InetAddress> externalAddress() throws IOException {
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp() || ni.isLoopback()) continue;
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
