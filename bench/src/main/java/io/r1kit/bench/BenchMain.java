package io.r1kit.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.CpuBackend;
import io.r1kit.model.backend.Devices;
import io.r1kit.model.backend.cuda.CudaBackend;
import io.r1kit.model.generate.DecodeBenchmark;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/r1kit bench}: r1kit kernels against libtorch (DJL PyTorch engine) on the same
 * shapes in the same run. Prints a table, or with {@code --json} exactly one JSON object on
 * stdout; progress and logs go to stderr.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks r1kit kernels against libtorch on the same shapes, side by side (medians).")
public final class BenchMain implements Callable<Integer> {

    @Option(names = "--quick", description = "Fewer shapes and repeats (finishes in under a minute).")
    boolean quick;

    @Option(names = "--json", description = "Print one JSON object on stdout (logs go to stderr).")
    boolean json;

    @Option(names = "--device", defaultValue = "cpu",
            description = "Backend to measure: cpu (default; r1kit vs libtorch), cuda or cuda:N (the CUDA bench; fails with the reason when CUDA is not usable), auto.")
    String device;

    @Option(names = "--model", description = "With --device cuda: a Hugging Face model directory for the training and decode rates.")
    Path model;

    @Option(names = "--batch", description = "With --device cuda: sequences per training step / decode batch (default 4, quick 1); "
            + "with --suite rollout: the one batch size to run (default: 1, 8 and 64).")
    Integer batch;

    @Option(names = "--seq-len", description = "With --device cuda: tokens per training sequence, also sizes the GEMM shapes (default 512, quick 128).")
    Integer seqLen;

    @Option(names = "--decode-tokens", description = "With --device cuda: new tokens per decoded sequence (default 64, quick 16).")
    Integer decodeTokens;

    @Option(names = "--only", split = ",", description = "Sections to run: gemm, attention, rmsnorm_rope, mla, moe, decode (default: all); "
            + "with --suite train / rollout: the models to run, by their JSON name (default: all).")
    List<String> only;

    @Option(names = "--repeats", description = "Timed repeats per shape and side (default: 5 quick, 11 full; --suite train / rollout: 3 quick, 5 full).")
    Integer repeats;

    @Option(names = "--suite", defaultValue = "kernels",
            description = "kernels (default: the sections of --only), train (a whole training step of the quickstart's model and of the Qwen2.5-0.5B shape), "
                    + "rollout (greedy decoding with a KV cache at batch 1, 8, 64 and the memory roofline), "
                    + "memory (the memory planner's estimate of a training step against the measured live heap; JSON always).")
    String suite;

    @Option(names = "--tiny", hidden = true, description = "Tiny shapes for --suite train / rollout (tests).")
    boolean tiny;

    private static final List<String> SECTIONS = List.of("gemm", "attention", "rmsnorm_rope", "mla", "moe", "decode");
    private final PrintStream log;

    public BenchMain() {
        this(System.err);
    }

    /** A bench whose progress and errors go to {@code log} (tests capture it). */
    BenchMain(PrintStream log) {
        this.log = log;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Backend backend = CpuBackend.INSTANCE;
        if (!device.equals("cpu")) {
            Devices.Selection sel;
            try {
                sel = Devices.select(device, log::println);
            } catch (IllegalArgumentException | IllegalStateException e) {   // the one-line reason (no GPU, no libraries, bad spec)
                log.println("r1kit bench: " + e.getMessage());
                return 2;
            }
            if (sel.backend() instanceof CudaBackend cuda) return cudaBench(cuda);
            backend = sel.backend();   // auto fell back to the CPU (the reason was logged): the CPU bench
        }
        if (!suite.equals("kernels")) return modelSuite(backend);
        Set<String> sections = new LinkedHashSet<>(only == null ? SECTIONS : only);
        for (String s : sections) {
            if (!SECTIONS.contains(s)) {
                log.println("r1kit bench: unknown section '" + s + "' in --only; expected some of " + SECTIONS);
                return 2;
            }
        }
        int reps = repeats != null ? repeats : quick ? 5 : 11;
        if (reps < 1) {
            log.println("r1kit bench: --repeats must be at least 1, got " + reps);
            return 2;
        }
        double warmup = quick ? 0.3 : 1.0;
        SideBySideTimer timer = new SideBySideTimer(warmup, reps);

        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
            Map<String, Object> machine = MachineInfo.collect();
            root.set("machine", om.valueToTree(machine));
            ObjectNode settings = root.putObject("settings");
            settings.put("device", device).put("quick", quick).put("repeats", reps).put("warmup_seconds", warmup)
                    .put("statistic", "median over repeats; r1kit and libtorch interleaved in one process")
                    .put("ratio", "libtorch_time / r1kit_time (> 1: r1kit faster)");
            log.println("r1kit bench on " + machine);

            if (sections.contains("gemm")) {
                log.println("warming up the JIT ...");
                GemmBench.warmUpJit(backend, quick ? 1.0 : 3.0);
                ArrayNode arr = root.putArray("gemm");
                for (GemmBench.Case c : GemmBench.cases(quick)) {
                    GemmBench.Row row = GemmBench.run(c, backend, nd, timer);
                    ObjectNode o = arr.addObject();
                    o.put("label", c.label()).put("m", c.m()).put("n", c.n()).put("k", c.k())
                            .put("trans_a", c.transA()).put("trans_b", c.transB())
                            .put("r1kit_gflops", round(row.r1kitGflops())).put("libtorch_gflops", round(row.libtorchGflops()))
                            .put("ratio", round(row.r().ratio()))
                            .put("r1kit_ms", round(row.r().r1kitMs())).put("libtorch_ms", round(row.r().libtorchMs()))
                            .put("calls_per_sample", row.callsPerSample());
                    log.printf(Locale.ROOT, "gemm %-28s %5dx%5dx%5d  r1kit %7.1f GFLOPS  libtorch %7.1f GFLOPS  ratio %.2f%n",
                            c.label(), c.m(), c.n(), c.k(), row.r1kitGflops(), row.libtorchGflops(), row.r().ratio());
                }
                GemmBench.Case sq = GemmBench.cases(quick).get(0);
                GemmBench.Row ceiling = GemmBench.runCeiling(sq, nd, timer);
                root.putObject("gemm_kernel_ceiling").put("m", sq.m()).put("n", sq.n()).put("k", sq.k())
                        .put("r1kit_kernel_gflops", round(ceiling.r1kitGflops()))
                        .put("libtorch_gflops", round(ceiling.libtorchGflops())).put("ratio", round(ceiling.r().ratio()))
                        .put("what", "r1kit's micro-kernel calls for this GEMM with no packing and the operands in cache,"
                                + " against libtorch's complete GEMM: the most any r1kit GEMM on this kernel can reach");
                log.printf(Locale.ROOT, "gemm micro-kernel ceiling %5dx%5dx%5d  r1kit kernel %7.1f GFLOPS  libtorch %7.1f GFLOPS  ratio %.2f%n",
                        sq.m(), sq.n(), sq.k(), ceiling.r1kitGflops(), ceiling.libtorchGflops(), ceiling.r().ratio());
            }
            if (sections.contains("attention")) {
                ArrayNode arr = root.putArray("attention");
                for (AttentionBench.Case c : AttentionBench.cases(quick)) {
                    AttentionBench.Row row = AttentionBench.run(c, backend, nd, timer);
                    ObjectNode o = arr.addObject();
                    o.put("b", c.b()).put("t", c.t()).put("hq", c.hq()).put("hkv", c.hkv()).put("d", c.d())
                            .put("pass", "forward+backward");
                    putTimes(o, row.r(), row.unavailable());
                    log.println("attention " + c + " " + describe(row.r(), row.unavailable()));
                }
            }
            if (sections.contains("rmsnorm_rope")) {
                ArrayNode arr = root.putArray("rmsnorm_rope");
                for (RmsNormRopeBench.Case c : RmsNormRopeBench.cases(quick)) {
                    RmsNormRopeBench.Row row = RmsNormRopeBench.run(c, backend, nd, timer);
                    ObjectNode o = arr.addObject();
                    o.put("rows", c.rows()).put("heads", c.heads()).put("head_dim", c.headDim())
                            .put("pass", "forward+backward");
                    putTimes(o, row.r(), row.unavailable());
                    log.println("rmsnorm_rope " + c + " " + describe(row.r(), row.unavailable()));
                }
            }
            if (sections.contains("mla")) {
                ArrayNode arr = root.putArray("mla");
                for (DeepseekBench.MlaCase c : DeepseekBench.mlaCases(quick)) {
                    DeepseekBench.Row row = DeepseekBench.mla(c, nd, timer);
                    ObjectNode o = arr.addObject();
                    o.put("b", c.b()).put("t", c.t()).put("hidden", c.hidden()).put("heads", c.heads()).put("q_lora_rank", c.qLora())
                            .put("kv_lora_rank", c.kvLora()).put("qk_nope_head_dim", c.dNope()).put("qk_rope_head_dim", c.dRope())
                            .put("v_head_dim", c.dV()).put("pass", "forward+backward");
                    putTimes(o, row.r(), row.unavailable());
                    log.println("mla " + c + " " + describe(row.r(), row.unavailable()));
                }
            }
            if (sections.contains("moe")) {
                ArrayNode arr = root.putArray("moe");
                for (DeepseekBench.MoeCase c : DeepseekBench.moeCases(quick)) {
                    DeepseekBench.Row row = DeepseekBench.moe(c, nd, timer);
                    ObjectNode o = arr.addObject();
                    o.put("b", c.b()).put("t", c.t()).put("hidden", c.hidden()).put("n_routed_experts", c.experts())
                            .put("n_group", c.groups()).put("topk_group", c.topkGroup()).put("num_experts_per_tok", c.k())
                            .put("moe_intermediate_size", c.moeFfn()).put("n_shared_experts", c.shared()).put("pass", "forward+backward");
                    putTimes(o, row.r(), row.unavailable());
                    log.println("moe " + c + " " + describe(row.r(), row.unavailable()));
                }
            }
            if (sections.contains("decode")) {
                // r1kit only: decode of a ~10M-parameter random model, batch 1 and 32 (KV cache, sampling loop)
                DecodeBenchmark.Result d = quick
                        ? DecodeBenchmark.run(16, 32)
                        : DecodeBenchmark.run();
                root.putObject("decode").put("parameters", d.parameters()).put("prompt_tokens", d.promptTokens())
                        .put("new_tokens", d.newTokens()).put("batch1_tokens_per_second", round(d.batch1TokensPerSec()))
                        .put("batch32_tokens_per_second", round(d.batch32TokensPerSec()))
                        .put("batch32_end_to_end_tokens_per_second", round(d.batch32EndToEndTokensPerSec()));
                log.println(d);
                // decode with fp32 / bf16 / fp8 projection weights on a ~118M-parameter model (beyond the caches)
                root.put("memory_bandwidth_gb_per_s", round(DecodeBenchmark.memoryBandwidthGBs()));
                ArrayNode dp = root.putArray("decode_precision");
                for (DecodeBenchmark.PrecisionRow row : DecodeBenchmark.precisionRows(quick ? 8 : 32, quick ? 4 : 16)) {
                    dp.addObject().put("weights", row.weights()).put("batch", row.batch())
                            .put("tokens_per_s", round(row.tokensPerSec())).put("weight_bytes_per_token", Math.round(row.weightBytesPerToken()));
                    log.println("decode_precision " + row);
                }
            }
        }
        if (json) {
            System.out.println(om.writeValueAsString(root));
        } else {
            System.out.print(BenchTable.render(root));
        }
        return 0;
    }

    /** --suite train / rollout: whole training steps or rollouts, r1kit against libtorch. */
    private int modelSuite(Backend backend) throws Exception {
        if (!suite.equals("train") && !suite.equals("rollout") && !suite.equals("memory")) {
            log.println("r1kit bench: unknown --suite '" + suite + "'; expected kernels, train, rollout or memory");
            return 2;
        }
        if (!(backend instanceof CpuBackend)) {
            log.println("r1kit bench: --suite " + suite + " runs on the CPU only (r1kit against libtorch on the same cores); got --device " + device);
            return 2;
        }
        int reps = repeats != null ? repeats : tiny ? 1 : quick ? 3 : 5;
        if (reps < 1) {
            log.println("r1kit bench: --repeats must be at least 1, got " + reps);
            return 2;
        }
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        if (suite.equals("memory")) {
            MemoryPlanBench.run(tiny, root, log);
            System.out.println(om.writeValueAsString(root));
            return 0;
        }
        try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
            ModelSuites.Settings s = new ModelSuites.Settings(quick, tiny, reps, only == null ? List.of() : only, batch);
            root.set("machine", om.valueToTree(MachineInfo.collect()));
            if (suite.equals("train")) ModelSuites.train(s, nd, root, log);
            else ModelSuites.rollout(s, nd, root, log);
        }
        System.out.print(json ? om.writeValueAsString(root) + "\n" : ModelSuites.render(root));
        return 0;
    }

    private int cudaBench(CudaBackend cuda) throws Exception {
        int reps = repeats != null ? repeats : quick ? 5 : 20;
        CudaBench.Options o = new CudaBench.Options(quick, Math.max(1, reps), model, batch != null ? batch : quick ? 1 : 4,
                seqLen != null ? seqLen : quick ? 128 : 512, decodeTokens != null ? decodeTokens : quick ? 16 : 64);
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.set("machine", om.valueToTree(MachineInfo.collect()));
        root.putObject("settings").put("device", cuda.name()).put("quick", quick).put("repeats", o.repeats())
                .put("statistic", "kernel times: mean of back-to-back repeats between two CUDA events; rates: wall clock");
        ObjectNode c = CudaBench.run(cuda, o, root, log);
        System.out.print(json ? om.writeValueAsString(root) + "\n" : CudaBench.render(c));
        return 0;
    }

    private static void putTimes(ObjectNode o, SideBySideTimer.Result r, String unavailable) {
        if (r == null) {
            o.put("status", "unavailable").put("reason", unavailable);
            o.putNull("r1kit_ms").putNull("libtorch_ms").putNull("ratio");
            return;
        }
        o.put("status", "ok").put("r1kit_ms", round(r.r1kitMs())).put("libtorch_ms", round(r.libtorchMs()))
                .put("ratio", round(r.ratio()));
    }

    private static String describe(SideBySideTimer.Result r, String unavailable) {
        if (r == null) return "unavailable (" + unavailable + ")";
        return String.format(Locale.ROOT, "r1kit %.2f ms  libtorch %.2f ms  ratio %.2f", r.r1kitMs(), r.libtorchMs(), r.ratio());
    }

    static double round(double x) {
        return Math.round(x * 1000.0) / 1000.0;
    }
}
