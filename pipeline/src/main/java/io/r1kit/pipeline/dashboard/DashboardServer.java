package io.r1kit.pipeline.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code r1kit dashboard}: serves the dashboard page and a small read-only JSON API over the runs
 * under one directory, on the JDK's built-in HTTP server.
 *
 * <pre>
 *   GET /                                   the page            GET /assets/NAME   its script, styles, uPlot
 *   GET /api/runs                           runs and ablations under the directory
 *   GET /api/run?id=ID                      config, stage status, eval table, steps with samples
 *   GET /api/metrics?id=ID&amp;from=N&amp;gen=G   metrics lines from the N-th (all of them when G is not the file's generation)
 *   GET /api/samples?id=ID&amp;stage=S&amp;step=K  the samples logged at one step
 * </pre>
 *
 * It listens on 127.0.0.1 unless another host is given, and then also accepts only requests whose
 * Host header names the loopback (so a web page elsewhere cannot reach it through DNS rebinding).
 * Runs are named by their id from the scan, stages and steps by the files present: no request
 * turns into a path of its own, so nothing outside the runs directory can be read.
 */
public final class DashboardServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long RESCAN_MILLIS = 1000;

    private final Path root;
    private final HttpServer server;
    private final ExecutorService pool;
    private final boolean loopbackOnly;
    private final Map<String, MetricsTail> tails = new ConcurrentHashMap<>();
    private volatile RunsTree tree;
    private volatile long scannedAt;

    private DashboardServer(Path root, HttpServer server, ExecutorService pool, boolean loopbackOnly) {
        this.root = root;
        this.server = server;
        this.pool = pool;
        this.loopbackOnly = loopbackOnly;
    }

    /** Starts serving {@code runsDir} on {@code host:port} (port 0: any free port). */
    public static DashboardServer start(Path runsDir, String host, int port) throws IOException {
        Path root = runsDir.toAbsolutePath().normalize();
        if (!Files.isDirectory(root)) throw new IllegalArgumentException("runs directory " + root + " does not exist");
        InetAddress addr = InetAddress.getByName(host);
        HttpServer http = HttpServer.create(new InetSocketAddress(addr, port), 16);
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "dashboard-http");
            t.setDaemon(true);
            return t;
        });
        DashboardServer s = new DashboardServer(root, http, pool, addr.isLoopbackAddress());
        http.createContext("/", s::handle);
        http.setExecutor(pool);
        http.start();
        return s;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }

    private RunsTree tree(boolean fresh) {
        long now = System.currentTimeMillis();
        if (tree == null || (fresh && now - scannedAt > RESCAN_MILLIS)) {
            tree = RunsTree.scan(root);
            scannedAt = now;
        }
        return tree;
    }

    private Optional<RunsTree.Run> run(String id) {
        if (id == null) return Optional.empty();
        Optional<RunsTree.Run> r = tree(false).run(id);
        return r.isPresent() ? r : tree(true).run(id);   // a run started after the last scan
    }

    private MetricsTail tail(RunsTree.Run r) {
        MetricsTail t = tails.computeIfAbsent(r.id(), k -> new MetricsTail(r.dir().resolve("metrics.jsonl")));
        t.refresh();
        return t;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                send(ex, 405, "text/plain; charset=utf-8", "only GET");
                return;
            }
            if (loopbackOnly && !loopbackHost(ex.getRequestHeaders().getFirst("Host"))) {
                send(ex, 403, "text/plain; charset=utf-8", "the dashboard answers requests for 127.0.0.1 or localhost only");
                return;
            }
            String path = ex.getRequestURI().getRawPath();
            Map<String, String> q = query(ex.getRequestURI().getRawQuery());
            switch (path) {
                case "/", "/index.html" -> send(ex, 200, "text/html; charset=utf-8",
                        DashboardPage.serverPage("r1kit dashboard: " + root.getFileName()));
                case "/api/runs" -> json(ex, DashboardPage.runList(tree(true)));
                case "/api/run" -> {
                    Optional<RunsTree.Run> r = run(q.get("id"));
                    if (r.isEmpty()) notFound(ex, "no run " + q.get("id"));
                    else json(ex, RunView.summary(r.get(), tail(r.get()), System.currentTimeMillis()));
                }
                case "/api/metrics" -> {
                    Optional<RunsTree.Run> r = run(q.get("id"));
                    if (r.isEmpty()) {
                        notFound(ex, "no run " + q.get("id"));
                        return;
                    }
                    metrics(ex, tail(r.get()), q);
                }
                case "/api/samples" -> {
                    Optional<RunsTree.Run> r = run(q.get("id"));
                    long step = parseLong(q.get("step"));
                    Optional<ArrayNode> s = r.isEmpty() || q.get("stage") == null || step < 0 ? Optional.empty()
                            : RunView.samples(r.get().dir(), q.get("stage"), step);
                    if (s.isEmpty()) notFound(ex, "no samples for that run, stage and step");
                    else json(ex, s.get());
                }
                default -> {
                    if (path.startsWith("/assets/") && DashboardPage.ASSETS.containsKey(path.substring(8))) {
                        String name = path.substring(8);
                        send(ex, 200, DashboardPage.ASSETS.get(name), DashboardPage.asset(name));
                    } else {
                        notFound(ex, "not found");
                    }
                }
            }
        } catch (RuntimeException e) {
            send(ex, 500, "text/plain; charset=utf-8", "r1kit dashboard: " + e.getMessage());
        }
    }

    private void metrics(HttpExchange ex, MetricsTail t, Map<String, String> q) throws IOException {
        long gen = t.generation();
        long from = parseLong(q.get("from"));
        boolean reset = from < 0 || !Long.toString(gen).equals(q.get("gen"));
        if (reset) from = 0;
        StringBuilder sb = new StringBuilder("{\"gen\":").append(gen).append(",\"reset\":").append(reset)
                .append(",\"from\":").append(from).append(",\"rows\":[");
        boolean first = true;
        for (MetricsTail.Line l : t.since((int) Math.min(Integer.MAX_VALUE, from))) {
            if (!first) sb.append(',');
            sb.append(l.text());
            first = false;
        }
        sb.append("]}");
        send(ex, 200, "application/json", sb.toString());
    }

    static boolean loopbackHost(String host) {
        if (host == null) return false;
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) h = h.substring(0, Math.max(1, h.indexOf(']') + 1));
        else if (h.indexOf(':') >= 0) h = h.substring(0, h.indexOf(':'));
        return h.equals("127.0.0.1") || h.equals("localhost") || h.equals("[::1]");
    }

    static Map<String, String> query(String raw) {
        Map<String, String> m = new HashMap<>();
        if (raw == null) return m;
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) continue;
            m.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    private static long parseLong(String s) {
        try {
            return s == null ? -1 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void json(HttpExchange ex, Object value) throws IOException {
        send(ex, 200, "application/json", JSON.writeValueAsString(value));
    }

    private static void notFound(HttpExchange ex, String why) throws IOException {
        send(ex, 404, "text/plain; charset=utf-8", why);
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        var h = ex.getResponseHeaders();
        h.set("Content-Type", type);
        h.set("Cache-Control", "no-store");
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : b.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }
    }
}
