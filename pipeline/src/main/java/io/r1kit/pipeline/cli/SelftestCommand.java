package io.r1kit.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.Conformance;
import io.r1kit.model.backend.Devices;
import io.r1kit.model.backend.cuda.AotKernels;
import io.r1kit.model.backend.cuda.CudaBackend;
import io.r1kit.model.backend.cuda.CudaDeviceBackend;
import io.r1kit.model.backend.cuda.CudaOps;
import io.r1kit.model.backend.cuda.CudaSelfChecks;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.ops.F;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code r1kit selftest [--device cpu|cuda|cuda:N|emulated]}: the backend conformance checks
 * ({@link Conformance}: every op forward and backward against the reference with the documented
 * tolerances; on CUDA also r1kit's own GEMM kernels, {@link CudaSelfChecks}) and a short benchmark
 * (GEMM GFLOPS in fp32 and bf16, a training step and decoding of a small model), as a table on
 * stdout and, with {@code --json FILE}, as JSON. No Maven or JUnit: the first thing to run on a new
 * GPU. Exit status: 0 all checks passed, 1 a check failed, 2 bad arguments, 3 the device asked for
 * is not available (the reason is printed and written to the JSON).
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Conformance checks of a backend against the reference, and a short benchmark (exit 0 ok, 1 failed check, "
                + "2 bad arguments, 3 device unavailable).")
public final class SelftestCommand implements Callable<Integer> {
    static final int FAILED = 1, USAGE = 2, UNAVAILABLE = 3;
    private static final int WARMUP_STEPS = 2;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda, cuda:N or emulated (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON to FILE")
    Path json;

    @Option(names = "--no-bench", description = "run the conformance checks only")
    boolean noBench;

    @Override
    public Integer call() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("command", "selftest").put("device_requested", device).put("java", Runtime.version().toString())
                .put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"))
                .put("cpus", Runtime.getRuntime().availableProcessors());
        AotKernels aot = AotKernels.get();
        root.put("precompiled_kernels", aot.present() ? "nvcc " + aot.nvcc() : aot.missingReason());
        Devices.Selection sel;
        try {
            sel = Devices.select(device, line -> System.err.println(line));
        } catch (IllegalArgumentException e) {
            System.err.println("r1kit selftest: " + e.getMessage());
            return USAGE;
        } catch (IllegalStateException | LinkageError e) {
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            System.out.println("r1kit selftest: device " + device + " unavailable: " + reason);
            root.put("status", "unavailable").put("reason", reason);
            write(mapper, root);
            return UNAVAILABLE;
        }
        Backends.set(sel.backend());
        Backend be = sel.backend();
        root.put("device", sel.device()).put("backend", be.name());
        CudaBackend cuda = be instanceof CudaBackend c ? c : null;
        if (cuda != null) {
            root.put("gpu", cuda.device().name).put("compute_capability", cuda.device().computeCapability)
                    .put("memory_bytes", cuda.device().totalMemory).put("cuda_setup", cuda.device().plan().line());
        }
        System.out.println("r1kit selftest on " + sel.device() + " (backend " + be.name() + (cuda != null ? ", " + cuda.device().name : "") + ")");

        Conformance.Profile profile = cuda != null ? Conformance.CUDA : Conformance.CPU;
        List<Conformance.Result> results = new ArrayList<>(Conformance.runAll(be, profile, be.name()));
        if (cuda != null) results.addAll(CudaSelfChecks.ownGemms(cuda));
        ArrayNode checks = root.putArray("checks");
        int failed = 0;
        System.out.printf(Locale.ROOT, "%-22s %-6s %8s  %s%n", "check", "result", "seconds", "detail");
        for (Conformance.Result r : results) {
            if (!r.passed()) failed++;
            checks.addObject().put("check", r.check()).put("passed", r.passed()).put("seconds", round(r.seconds())).put("detail", r.detail());
            System.out.printf(Locale.ROOT, "%-22s %-6s %8.2f  %s%n", r.check(), r.passed() ? "ok" : "FAILED", r.seconds(),
                    r.passed() ? "" : r.detail());
        }
        root.put("checks_passed", results.size() - failed).put("checks_failed", failed);

        if (!noBench) {
            ObjectNode bench = root.putObject("bench");
            try {
                bench(sel, cuda, bench);
            } catch (RuntimeException | LinkageError e) {
                // a benchmark that cannot run is reported, not a failed conformance check
                bench.put("error", e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
                System.out.println("benchmark stopped: " + bench.get("error").asText());
            }
        }
        root.put("status", failed == 0 ? "passed" : "failed");
        System.out.println(failed == 0 ? "selftest passed: " + results.size() + " checks" : "selftest FAILED: " + failed + " of " + results.size() + " checks");
        write(mapper, root);
        return failed == 0 ? 0 : FAILED;
    }

    private void write(ObjectMapper mapper, ObjectNode root) throws IOException {
        if (json == null) return;
        Path p = json.toAbsolutePath();
        if (p.getParent() != null) Files.createDirectories(p.getParent());
        Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
        Files.writeString(tmp, mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        Files.move(tmp, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The quickstart's model shape (hidden 96, FFN 256, 4 layers, 4 heads) with a small vocabulary. */
    static ModelConfig smallModel() {
        return ModelConfig.llama(64, 96, 256, 4, 4, 4);
    }

    private static void bench(Devices.Selection sel, CudaBackend cuda, ObjectNode bench) {
        System.out.println("benchmark (wall clock" + (cuda != null ? "; GEMMs timed with CUDA events" : "") + "):");
        // GEMM
        ArrayNode gemms = bench.putArray("gemm");
        if (cuda != null) {
            CudaDeviceBackend dev = (CudaDeviceBackend) sel.resident();
            int n = 4096;
            CudaOps.GemmPrecision saved = cuda.gemmPrecision();
            try {
                cuda.setGemmPrecision(CudaOps.GemmPrecision.FP32);
                gemmRow(gemms, "fp32", n, cudaGemmMs(dev, n, false), cuda.ops().gemmPath().name());
                gemmRow(gemms, "bf16", n, cudaGemmMs(dev, n, true), cuda.ops().gemmPath().name());
            } finally {
                cuda.setGemmPrecision(saved);
            }
        } else {
            int n = 512;
            Backend be = sel.backend();
            float[] a = Conformance.randn(1, n * n), b = Conformance.randn(2, n * n), c = new float[n * n];
            // the JIT needs several calls to compile the vector kernels (seconds on a small machine):
            // warm up until two calls in a row agree within 20%, at most 20 calls
            double prev = Double.MAX_VALUE;
            for (int i = 0; i < 20; i++) {
                long w0 = System.nanoTime();
                be.gemm(false, false, n, n, n, 1f, a, 0, b, 0, 0f, c, 0);
                double ms = (System.nanoTime() - w0) / 1e6;
                if (ms > 0.8 * prev && ms < 1.2 * prev) break;
                prev = ms;
            }
            int reps = 5;
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) be.gemm(false, false, n, n, n, 1f, a, 0, b, 0, 0f, c, 0);
            gemmRow(gemms, "fp32", n, (System.nanoTime() - t0) / 1e6 / reps, "cpu");
            gemms.addObject().put("precision", "bf16").put("skipped", "the CPU backend's GEMMs are fp32");
        }
        // training step and decode of the small model
        ModelConfig cfg = smallModel();
        CausalLM model = CausalLM.random(cfg, 1);
        if (sel.resident() != null) model.moveTo(sel.resident());
        int batch = 8, seq = 256;
        AdamW opt = new AdamW(model.parameters(), AdamW.Config.defaults(1e-4f));
        SplittableRandom r = new SplittableRandom(1);
        int steps = 3;
        long t0 = 0;
        float loss = Float.NaN;
        for (int s = 0; s < WARMUP_STEPS + steps; s++) {
            if (s == WARMUP_STEPS) t0 = System.nanoTime();  // the first steps load kernels / warm the JIT: not timed
            int[] ids = new int[batch * seq], tg = new int[batch * seq];
            for (int i = 0; i < ids.length; i++) { ids[i] = r.nextInt(cfg.vocabSize()); tg[i] = r.nextInt(cfg.vocabSize()); }
            opt.zeroGrad();
            Tensor l = F.crossEntropy(model.forward(ids, batch, seq, null, null), tg);
            l.backward();
            GradClip.clipGlobalNorm(model.parameters(), 1.0);
            opt.step();
            loss = l.item();                                // synchronises: the step has run
        }
        double stepMs = (System.nanoTime() - t0) / 1e6 / steps;
        bench.putObject("training_step").put("parameters", cfg.parameterCount()).put("batch", batch).put("seq_len", seq)
                .put("ms_per_step", round(stepMs)).put("tokens_per_second", round(batch * seq / (stepMs / 1e3))).put("last_loss", round(loss));
        System.out.printf(Locale.ROOT, "  training step  %,d params, %d x %d tokens: %.1f ms/step (%.0f tok/s), loss %.3f%n",
                cfg.parameterCount(), batch, seq, stepMs, batch * seq / (stepMs / 1e3), loss);
        List<int[]> prompts = new ArrayList<>();
        for (int b = 0; b < 8; b++) prompts.add(r.ints(16, 0, cfg.vocabSize()).toArray());
        try (var ng = Grad.noGrad()) {
            Generator g = new Generator(model);
            g.generate(prompts, SamplingParams.greedy(4));
            long d0 = System.nanoTime();
            int tokens = g.generate(prompts, SamplingParams.greedy(64).withIgnoreEos(true)).stream().mapToInt(c -> c.tokens().length).sum();
            double tps = tokens / ((System.nanoTime() - d0) / 1e9);
            bench.putObject("decode").put("batch", prompts.size()).put("new_tokens", 64).put("tokens_per_second", round(tps));
            System.out.printf(Locale.ROOT, "  decode         batch %d, 64 new tokens: %.0f tok/s%n", prompts.size(), tps);
        }
        if (sel.resident() != null) model.moveToHost();
    }

    private static void gemmRow(ArrayNode gemms, String precision, int n, double ms, String path) {
        double gflops = 2.0 * n * n * n / (ms * 1e-3) / 1e9;
        gemms.addObject().put("precision", precision).put("m", n).put("n", n).put("k", n).put("path", path)
                .put("ms", round(ms)).put("gflops", round(gflops));
        System.out.printf(Locale.ROOT, "  gemm %s %dx%dx%d (%s): %.3f ms, %.1f GFLOPS%n", precision, n, n, n, path, ms, gflops);
    }

    /** Mean ms of 10 n x n x n GEMMs after one warm-up (CUDA events), fp32 operands or bf16 operands already on the device. */
    private static double cudaGemmMs(CudaDeviceBackend dev, int n, boolean bf16) {
        long nn = (long) n * n;
        try (DeviceArray a = dev.alloc(ElementType.F32, nn); DeviceArray b = dev.alloc(ElementType.F32, nn);
             DeviceArray c = dev.alloc(ElementType.F32, nn)) {
            dev.fill(a, 0.01f, nn);
            dev.fill(b, 0.02f, nn);
            if (!bf16) {
                dev.gemm(false, true, n, n, n, 1f, a, 0, b, 0, 0f, c, 0);
                return dev.timeMs(() -> { for (int i = 0; i < 10; i++) dev.gemm(false, true, n, n, n, 1f, a, 0, b, 0, 0f, c, 0); }) / 10;
            }
            try (DeviceArray a16 = dev.castToBf16(a, 0, nn); DeviceArray b16 = dev.castToBf16(b, 0, nn)) {
                dev.gemmBf16(false, true, n, n, n, 1f, a16, b16, 0f, c);
                return dev.timeMs(() -> { for (int i = 0; i < 10; i++) dev.gemmBf16(false, true, n, n, n, 1f, a16, b16, 0f, c); }) / 10;
            }
        }
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
    }
}
