package io.r1kit.pipeline.cli;

import io.r1kit.pipeline.dashboard.DashboardServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code r1kit dashboard [RUNS_DIR]}: the live dashboard of the runs and ablations under a directory. */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
        description = {"Serve a live dashboard of the runs and ablations under RUNS_DIR (default runs/): curves updated while",
                "runs write them, overlays, eval tables, samples, configs and stage status. Read-only; stop it with Ctrl-C."})
public final class DashboardCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "RUNS_DIR", defaultValue = "runs")
    Path runsDir;

    @Option(names = "--port", defaultValue = "8080", description = "port (default ${DEFAULT-VALUE}; 0 picks a free one)")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "address to listen on (default ${DEFAULT-VALUE}, this machine only; 0.0.0.0 opens it to the network)")
    String host;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(runsDir)) {
            System.err.println("r1kit: " + runsDir + " is not a directory (give the directory holding the runs, e.g. runs/)");
            return 2;
        }
        DashboardServer server;
        try {
            server = DashboardServer.start(runsDir, host, port);
        } catch (BindException e) {
            System.err.println("r1kit: cannot listen on " + host + ":" + port + " (" + e.getMessage() + "); pick another port with --port");
            return 2;
        }
        String shown = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host.contains(":") ? "[" + host + "]" : host;
        System.out.println("r1kit dashboard: " + runsDir.toAbsolutePath().normalize() + " on http://" + shown + ":" + server.port() + "/");
        if (!server.address().getAddress().isLoopbackAddress()) {
            System.out.println("r1kit dashboard: listening on " + host + ": reachable from other machines (read-only, no authentication)");
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
