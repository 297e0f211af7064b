package io.r1kit.pipeline.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A real headless Chromium driven over the Chrome DevTools protocol (a WebSocket, with the JDK's
 * own client; no driver binary to keep in step with the browser's version). One page: navigate,
 * evaluate script, dispatch real mouse events, record the network requests it makes, screenshot.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final WebSocket ws;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<JsonNode> events = new CopyOnWriteArrayList<>();

    private HeadlessChromium(Process process, WebSocket ws) {
        this.process = process;
        this.ws = ws;
    }

    /** The browser binary: $R1KIT_CHROMIUM, else chromium, chromium-browser or google-chrome on the PATH. */
    static Optional<Path> find() {
        String env = System.getenv("R1KIT_CHROMIUM");
        if (env != null && !env.isBlank()) return Optional.of(Path.of(env)).filter(Files::isExecutable);
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) {
                Path p = Path.of(dir).resolve(name);
                if (Files.isExecutable(p)) return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static HeadlessChromium launch(Path binary, Path profile) throws Exception {
        Files.createDirectories(profile);
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1400,1000",
                "--hide-scrollbars", "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--mute-audio", "about:blank"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        Path portFile = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(Files.exists(portFile) && Files.readAllLines(portFile).size() >= 2)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IOException("chromium did not start (" + binary + "): " + Files.readString(profile.resolve("chromium.log")));
            }
            Thread.sleep(50);
        }
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
        HttpClient http = HttpClient.newHttpClient();
        String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String wsUrl = null;
        for (JsonNode t : JSON.readTree(list)) if (t.path("type").asText().equals("page")) wsUrl = t.get("webSocketDebuggerUrl").asText();
        if (wsUrl == null) throw new IOException("no page target in " + list);
        HeadlessChromium[] self = new HeadlessChromium[1];
        WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(wsUrl), new WebSocket.Listener() {
            private final StringBuilder buf = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                buf.append(data);
                if (last) {
                    String msg = buf.toString();
                    buf.setLength(0);
                    try {
                        JsonNode n = JSON.readTree(msg);
                        if (n.has("id")) {
                            CompletableFuture<JsonNode> f = self[0].pending.remove(n.get("id").asInt());
                            if (f != null) f.complete(n);
                        } else {
                            self[0].events.add(n);
                        }
                    } catch (IOException e) {
                        // not JSON: ignore
                    }
                }
                w.request(1);
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        HeadlessChromium c = new HeadlessChromium(p, ws);
        self[0] = c;
        c.call("Page.enable", null);
        c.call("Runtime.enable", null);
        c.call("Network.enable", null);
        return c;
    }

    JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        if (params != null) msg.set("params", params);
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        ws.sendText(JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
        JsonNode r = f.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (r.has("error")) throw new IllegalStateException(method + ": " + r.get("error"));
        return r.get("result");
    }

    static ObjectNode params(Object... kv) {
        ObjectNode o = JSON.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) o.set((String) kv[i], JSON.valueToTree(kv[i + 1]));
        return o;
    }

    /** Evaluates an expression (promises awaited) and returns its value as JSON; a thrown error fails. */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", params("expression", expression, "awaitPromise", true, "returnByValue", true));
        if (r.has("exceptionDetails")) throw new IllegalStateException("script failed: " + expression + "\n" + r.get("exceptionDetails"));
        return r.path("result").path("value");
    }

    /**
     * Opens a URL in a fresh document (by way of about:blank, so that a URL differing only in its
     * hash loads anew and the last page's requests are over) and waits for it to load.
     */
    void navigate(String url) throws Exception {
        call("Page.navigate", params("url", "about:blank"));
        waitFor("location.href === 'about:blank' && document.readyState === 'complete'", Duration.ofSeconds(60));
        events.clear();
        call("Page.navigate", params("url", url));
        waitFor("document.readyState === 'complete' && location.href.startsWith(" + JSON.writeValueAsString(url.replaceAll("#.*", "")) + ")",
                Duration.ofSeconds(60));
    }

    /** Polls a script condition until it is true, failing with {@code what} after the timeout. */
    void waitFor(String condition, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode v = eval("(() => { try { return !!(" + condition + "); } catch (e) { return false; } })()");
            if (v.asBoolean()) return;
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + condition + "; page errors: " + consoleErrors());
            }
            Thread.sleep(100);
        }
    }

    static void waitUntil(BooleanSupplier cond, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean() && System.nanoTime() < deadline) Thread.sleep(50);
    }

    /** A left click with real mouse events at page coordinates (CSS pixels). */
    void click(double x, double y) throws Exception {
        call("Input.dispatchMouseEvent", params("type", "mouseMoved", "x", x, "y", y));
        call("Input.dispatchMouseEvent", params("type", "mousePressed", "x", x, "y", y, "button", "left", "clickCount", 1));
        call("Input.dispatchMouseEvent", params("type", "mouseReleased", "x", x, "y", y, "button", "left", "clickCount", 1));
    }

    /** URLs of every request the page made since the last navigation (the DevTools Network domain). */
    List<String> requestedUrls() {
        List<String> out = new ArrayList<>();
        for (JsonNode e : events) {
            if (e.path("method").asText().equals("Network.requestWillBeSent")) out.add(e.path("params").path("request").path("url").asText());
        }
        return out;
    }

    /** Messages the page logged to its console or threw, since the last navigation. */
    List<String> consoleErrors() {
        List<String> out = new ArrayList<>();
        for (JsonNode e : events) {
            String m = e.path("method").asText();
            if (m.equals("Runtime.exceptionThrown")) out.add(e.path("params").path("exceptionDetails").toString());
            if (m.equals("Runtime.consoleAPICalled") && e.path("params").path("type").asText().equals("error")) {
                out.add(e.path("params").path("args").toString());
            }
        }
        return out;
    }

    void screenshot(Path png) throws Exception {
        JsonNode r = call("Page.captureScreenshot", params("format", "png"));
        Files.createDirectories(png.getParent());
        Files.write(png, Base64.getDecoder().decode(r.get("data").asText()));
    }

    @Override
    public void close() {
        try {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the browser goes anyway
        }
        // Chromium's helper processes (zygote, renderers, GPU) outlive the main one for a moment and keep
        // writing to the profile directory; stop them all and wait, so the directory can be deleted
        List<ProcessHandle> helpers = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            for (ProcessHandle h : helpers) {
                h.destroyForcibly();
                h.onExit().get(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // a helper that does not report its exit is left to the OS
        }
    }
}
