package io.r1kit.model.arch;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.model.autograd.Checkpoint;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.HfCheckpointWriter;
import io.r1kit.model.hf.HfModelConfig;
import io.r1kit.model.hf.NamedTensor;
import io.r1kit.model.hf.TensorInfo;
import io.r1kit.model.lora.LoraAdapters;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.model.lora.PeftAdapterFiles;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * A decoder-only causal language model (transformers' LlamaForCausalLM, Qwen2ForCausalLM,
 * Qwen3ForCausalLM): token embedding, {@link DecoderLayer}s, final RMSNorm and lm_head (the
 * embedding matrix itself when tied). Parameters carry exactly the Hugging Face names, so
 * checkpoints load and save without renaming or transposing.
 *
 * <pre>
 *   CausalLM m = CausalLM.load(dir);                       // config.json + safetensors
 *   Tensor logits = m.forward(ids, B, T, null, null);      // [B, T, V]
 *   TokenScores s = m.scoreTokens(batch, true);            // log-probs [B, T] without [B, T, V]
 *   m.save(out, DType.BF16);
 * </pre>
 */
public final class CausalLM {
    private final ModelConfig config;
    private final HfModelConfig hfConfig;
    private final JsonNode sourceConfigJson; // config.json as loaded (unknown keys survive a save), or null
    private final Path sourceDir;            // where it was loaded from (tokenizer files), or null
    private JsonNode generationConfigJson;   // generation_config.json as loaded, or null
    private final Parameter embed;
    private final List<DecoderLayer> layers;          // Llama / Qwen blocks (empty for DeepSeek-V3)
    private final List<DeepseekV3Layer> dsLayers;     // DeepSeek-V3 blocks (empty otherwise)
    private final List<MtpModule> mtp;                // DeepSeek-V3 multi-token-prediction modules
    private final Parameter norm;
    private final Parameter lmHead;          // null when tied
    private final RopeTables rope;
    private boolean gradientCheckpointing;
    private Tensor lastPreNorm;              // DeepSeek-V3 with MTP: the last forward's hidden state before model.norm
    private LoraAdapters lora;               // LoRA adapters over the frozen weights (attachLora), or null
    private Path mergedAdapter;              // the adapter directory merged into these weights at load, or null

    private CausalLM(ModelConfig c, HfModelConfig hf, JsonNode json, Path dir, RandomGenerator rng) {
        this.config = c;
        this.hfConfig = hf;
        this.sourceConfigJson = json;
        this.sourceDir = dir;
        float std = (float) c.initStd();
        this.embed = DecoderLayer.mat("model.embed_tokens.weight", rng, std, c.vocabSize(), c.hiddenSize());
        List<DecoderLayer> ls = new ArrayList<>();
        List<DeepseekV3Layer> ds = new ArrayList<>();
        List<MtpModule> mt = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            if (c.isDeepseekV3()) ds.add(new DeepseekV3Layer(c, i, rng)); else ls.add(new DecoderLayer(c, i, rng));
        }
        if (c.isDeepseekV3()) {
            for (int d = 0; d < c.deepseek().numNextnPredictLayers(); d++) mt.add(new MtpModule(c, c.numLayers() + d, rng));
        }
        this.layers = List.copyOf(ls);
        this.dsLayers = List.copyOf(ds);
        this.mtp = List.copyOf(mt);
        this.norm = DecoderLayer.ones("model.norm.weight", c.hiddenSize());
        this.lmHead = c.tieEmbeddings() ? null : DecoderLayer.mat("lm_head.weight", rng, std, c.vocabSize(), c.hiddenSize());
        this.rope = c.yarn() != null ? YarnRope.tables(c.headDim(), c.maxPositions(), c.ropeTheta(), c.yarn())
                : RopeTables.build(c.headDim(), c.maxPositions(), c.ropeTheta(), c.ropeScaling());
    }

    /**
     * A freshly initialised model, like transformers' {@code _init_weights}: every weight matrix
     * (embedding, projections, lm_head) normal(0, initStd), biases 0, norm weights 1. Deterministic
     * in {@code seed}.
     */
    public static CausalLM random(ModelConfig config, long seed) {
        return new CausalLM(config, config.toHf(), null, null, new SplittableRandom(seed));
    }

    /**
     * Loads a Hugging Face model directory (config.json, model.safetensors or sharded with an index;
     * F32/BF16/F16 widened to float32). Every parameter must be present with the shape the config
     * implies; an unknown tensor is an error too (it means the config does not describe the file),
     * except {@code rotary_emb.inv_freq} buffers and a redundant lm_head.weight of a tied model.
     */
    public static CausalLM load(Path dir) throws IOException {
        if (PeftAdapterFiles.isAdapterDir(dir) && !java.nio.file.Files.exists(dir.resolve(HfCheckpoint.CONFIG))) return loadAdapterDir(dir);
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            return load(ck);
        }
    }

    /** Loads the weights of an opened checkpoint. */
    public static CausalLM load(HfCheckpoint ck) throws IOException {
        Path configFile = ck.dir().resolve(HfCheckpoint.CONFIG);
        ModelConfig c = ModelConfig.fromHf(ck.config(), configFile);
        // Allocate nothing a checkpoint cannot fill: a config.json that implies far more parameters than
        // the files hold (a wrong or hostile size) is refused before its tensors are allocated. Near
        // misses pass on to the per-tensor checks below, which name the missing or misshapen tensor.
        long held = 0;
        for (String n : ck.tensorNames()) held += ck.info(n).numel();
        if (c.parameterCount() > 2 * held + (1L << 20)) {
            throw new CheckpointException(configFile, null, "describes a model of " + c.parameterCount()
                    + " parameters, but the checkpoint's tensors hold only " + held + " values (check vocab_size, hidden_size,"
                    + " intermediate_size, num_hidden_layers, head_dim)");
        }
        CausalLM m = new CausalLM(c, ck.config(), ck.rawConfig(), ck.dir(), null);
        m.generationConfigJson = ck.generationConfig().map(g -> g.raw()).orElse(null);
        Map<String, Parameter> named = m.namedParameters();
        for (Parameter p : named.values()) {
            if (!ck.contains(p.name())) {
                throw new CheckpointException(ck.dir(), p.name(), "tensor is missing from the checkpoint, but "
                        + configFile.getFileName() + " (" + c.family().className() + ") requires it");
            }
            TensorInfo info = ck.info(p.name());
            if (!Arrays.equals(info.shape(), p.shape())) {
                throw new CheckpointException(info.file(), p.name(), "has shape " + Arrays.toString(info.shape())
                        + " but config.json implies " + Arrays.toString(p.shape()));
            }
            p.copyFrom(ck.load(p.name()));
        }
        for (Parameter b : m.buffers()) {
            // a checkpoint saved before any balancing may lack the correction bias: transformers then keeps its zeros
            if (!ck.contains(b.name())) continue;
            TensorInfo info = ck.info(b.name());
            if (!Arrays.equals(info.shape(), b.shape()))
                throw new CheckpointException(info.file(), b.name(), "has shape " + Arrays.toString(info.shape())
                        + " but config.json implies " + Arrays.toString(b.shape()));
            b.copyFrom(ck.load(b.name()));
        }
        Set<String> mtpCopies = new HashSet<>();
        for (MtpModule md : m.mtp) {
            m.checkTiedCopy(ck, md.embedCopyName(), m.embed);
            m.checkTiedCopy(ck, md.headCopyName(), m.lmHeadWeight());
            mtpCopies.add(md.embedCopyName());
            mtpCopies.add(md.headCopyName());
        }
        List<String> unexpected = new ArrayList<>();
        for (String n : ck.tensorNames()) {
            if (named.containsKey(n) || mtpCopies.contains(n) || n.endsWith("rotary_emb.inv_freq")) continue;
            if (m.bufferNames().contains(n)) continue;
            if (c.tieEmbeddings() && n.equals("lm_head.weight")) continue;
            unexpected.add(n);
        }
        if (!unexpected.isEmpty()) {
            throw new CheckpointException(ck.dir(), unexpected.get(0), unexpected.size() + " tensor(s) not used by a "
                    + c.family().className() + " with this config.json: " + unexpected.subList(0, Math.min(5, unexpected.size()))
                    + " (check tie_word_embeddings, attention_bias, mlp_bias, num_hidden_layers, num_nextn_predict_layers)");
        }
        return m;
    }

    /**
     * An MTP module's copy of the embedding or lm_head: required, with the main tensor's shape and
     * values (DeepSeek-V3 shares them; r1kit ties them, so a differing copy could not be kept).
     */
    private void checkTiedCopy(HfCheckpoint ck, String name, Parameter main) throws IOException {
        if (!ck.contains(name))
            throw new CheckpointException(ck.dir(), name, "tensor is missing: an MTP module stores its copy of "
                    + (main == embed ? "model.embed_tokens.weight" : "lm_head.weight"));
        TensorInfo info = ck.info(name);
        if (!Arrays.equals(info.shape(), main.shape()))
            throw new CheckpointException(info.file(), name, "has shape " + Arrays.toString(info.shape()) + ", expected "
                    + Arrays.toString(main.shape()) + " (a copy of " + main.name() + ")");
        if (!Arrays.equals(ck.load(name), main.data()))
            throw new CheckpointException(info.file(), name, "differs from " + main.name()
                    + ": r1kit ties an MTP module's embedding and head to the main model's, as DeepSeek-V3 shares them");
    }

    /**
     * Saves in the Hugging Face layout (config.json, model.safetensors, tokenizer files of the
     * directory the model was loaded from), atomically. {@code dtype}: F32 (exact) or BF16. With LoRA
     * adapters attached, saves the adapters only, in PEFT's layout (float32, naming the base model's
     * directory), as PEFT's save_pretrained does; {@link #load} of that directory gives the merged model.
     */
    public void save(Path dir, DType dtype) throws IOException {
        if (lora != null) {
            PeftAdapterFiles.save(dir, lora, sourceDir == null ? null : sourceDir.toAbsolutePath().normalize().toString(), sourceDir);
            return;
        }
        save(dir, writer().dtype(dtype));
    }

    // ------------------------------------------------------------------ LoRA

    /**
     * Attaches LoRA adapters (A Kaiming-uniform from {@code seed}, B zeros, as PEFT) to the targeted
     * projections of every decoder block and freezes every weight of the model: afterwards
     * {@link #trainableParameters()} are the adapters alone. Llama / Qwen blocks only.
     */
    public LoraAdapters attachLora(LoraConfig cfg, long seed) {
        if (lora != null) throw new IllegalStateException("lora: the model already has adapters");
        if (config.isDeepseekV3())
            throw new UnsupportedOperationException("lora: DeepSeek-V3 models (MLA, DeepSeekMoE) are not supported; LoRA applies to the "
                    + "projections of Llama / Qwen2 / Qwen3 blocks");
        if (precision() == Precision.BF16)
            throw new UnsupportedOperationException("lora: precision bf16 is not supported with adapters; use fp32");
        if (mergedAdapter != null)
            throw new IllegalStateException("lora: this model was loaded from the adapter directory " + mergedAdapter + " (merged into its"
                    + " base); write it as a full checkpoint first (bin/r1kit merge) and train new adapters on that");
        LoraAdapters ad = LoraAdapters.create(layers, cfg, seed);
        DeviceBackend dev = device();
        if (dev != null) for (Parameter p : ad.parameters()) p.moveTo(dev);
        for (Parameter p : parameters()) p.frozen(true);
        for (int i = 0; i < layers.size(); i++) layers.get(i).lora = ad.layer(i);
        this.lora = ad;
        return ad;
    }

    /** The LoRA adapters, or null when none are attached. */
    public LoraAdapters lora() {
        return lora;
    }

    /**
     * For code that reads the weights directly (cached decoding): with adapters attached, writes them
     * into the weights until the returned scope closes (see {@link LoraAdapters#merged()}); without, a
     * scope that does nothing.
     */
    public LoraAdapters.Scope mergedAdapters() {
        return lora == null ? () -> { } : lora.merged();
    }

    /** What an optimizer trains: the LoRA adapters when attached, else {@link #parameters()}. */
    public List<Parameter> trainableParameters() {
        return lora != null ? lora.parameters() : parameters();
    }

    /**
     * Merges the adapters into the weights for good (PEFT's merge_and_unload): the weights become
     * W + B·A·alpha/r, the adapters are dropped and the weights are trainable again.
     */
    public CausalLM mergeAndUnloadLora() {
        if (lora == null) throw new IllegalStateException("lora: the model has no adapters to merge");
        lora.mergeForGood();
        for (DecoderLayer l : layers) l.lora = null;
        for (Parameter p : parameters()) p.frozen(false);
        lora = null;
        return this;
    }

    /**
     * A PEFT adapter directory as a model: the base it names (base_model_name_or_path, resolved
     * against the adapter directory when relative) with the adapters merged in.
     */
    private static CausalLM loadAdapterDir(Path dir) throws IOException {
        PeftAdapterFiles.Adapter a = PeftAdapterFiles.read(dir);
        if (a.baseModel() == null)
            throw new CheckpointException(dir.resolve(PeftAdapterFiles.CONFIG), null, "names no base_model_name_or_path: the adapters cannot "
                    + "be applied without their base model (bin/r1kit merge --model BASE --adapter DIR --out OUT)");
        Path base = dir.resolve(a.baseModel());
        if (!java.nio.file.Files.isDirectory(base))
            throw new CheckpointException(dir.resolve(PeftAdapterFiles.CONFIG), null, "names base model " + a.baseModel()
                    + ", which is not a directory here (pass it with bin/r1kit merge --model BASE)");
        CausalLM m = load(base);
        m.attachLora(a.config(), 0);
        PeftAdapterFiles.load(dir, m.lora);
        m.mergeAndUnloadLora();
        m.mergedAdapter = dir;
        return m;
    }

    /**
     * A writer preset with this model's config.json (the loaded one, so unknown keys and special
     * token ids survive; else {@link ModelConfig#toHf()}), generation_config.json and tokenizer files; adjust it (dtype,
     * shard size, tokenizer from elsewhere) and pass it to {@link #save(Path, HfCheckpointWriter)}.
     */
    public HfCheckpointWriter writer() {
        HfCheckpointWriter w = new HfCheckpointWriter();
        if (sourceConfigJson != null) w.config(sourceConfigJson); else w.config(hfConfig);
        if (sourceDir != null) w.tokenizerFrom(sourceDir);
        if (generationConfigJson != null) w.generationConfig(generationConfigJson);
        return w;
    }

    public void save(Path dir, HfCheckpointWriter writer) throws IOException {
        writer.save(dir, namedTensors());
    }

    /** Parameters as {@link NamedTensor}s in state_dict order (sharing storage, not copied). */
    public List<NamedTensor> namedTensors() {
        List<NamedTensor> out = new ArrayList<>();
        for (Parameter p : parameters()) out.add(new NamedTensor(p.name(), p.shape(), p.data()));
        for (Parameter b : buffers()) out.add(new NamedTensor(b.name(), b.shape(), b.data()));
        for (MtpModule md : mtp) {
            out.add(new NamedTensor(md.embedCopyName(), embed.shape(), embed.data()));
            out.add(new NamedTensor(md.headCopyName(), lmHeadWeight().shape(), lmHeadWeight().data()));
        }
        return out;
    }

    /**
     * Saved, loaded and copied but not trained: the routers' e_score_correction_bias of a
     * DeepSeek-V3 model (moved only by {@link #updateExpertBias}); always on the host.
     */
    public List<Parameter> buffers() {
        List<Parameter> bs = new ArrayList<>();
        for (DeepseekV3Layer l : allDeepseekLayers()) if (l.expertBias() != null) bs.add(l.expertBias());
        return bs;
    }

    private Set<String> bufferNames() {
        Set<String> s = new HashSet<>();
        for (Parameter b : buffers()) s.add(b.name());
        return s;
    }

    /** The DeepSeek-V3 blocks, MTP modules' blocks after the main ones. */
    private List<DeepseekV3Layer> allDeepseekLayers() {
        List<DeepseekV3Layer> all = new ArrayList<>(dsLayers);
        for (MtpModule md : mtp) all.add(md.block());
        return all;
    }

    /** DeepSeek-V3 blocks (empty for the other families). */
    public List<DeepseekV3Layer> deepseekLayers() {
        return dsLayers;
    }

    /** DeepSeek-V3 multi-token-prediction modules (empty when the config has none). */
    public List<MtpModule> mtpModules() {
        return mtp;
    }

    // ------------------------------------------------------------------ structure

    public ModelConfig config() {
        return config;
    }

    /** The config.json view (special token ids, dtype) of this model. */
    public HfModelConfig hfConfig() {
        return hfConfig;
    }

    /** The directory this model was loaded from, or null for a model built in memory. */
    public Path sourceDir() {
        return sourceDir;
    }

    public Parameter embedTokens() {
        return embed;
    }

    public List<DecoderLayer> layers() {
        return layers;
    }

    public Parameter finalNorm() {
        return norm;
    }

    /** The [V, C] matrix producing logits: lm_head.weight, or the embedding when tied. */
    public Parameter lmHeadWeight() {
        return lmHead != null ? lmHead : embed;
    }

    public RopeTables ropeTables() {
        return rope;
    }

    /** All parameters in state_dict order (a tied lm_head appears once, as the embedding). */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        ps.add(embed);
        for (DecoderLayer l : layers) ps.addAll(l.parameters());
        for (DeepseekV3Layer l : dsLayers) ps.addAll(l.parameters());
        for (MtpModule md : mtp) ps.addAll(md.parameters());
        ps.add(norm);
        if (lmHead != null) ps.add(lmHead);
        return ps;
    }

    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }

    /** Copies every parameter value of {@code other} (same config) into this model, e.g. to make a frozen reference. */
    public void copyWeightsFrom(CausalLM other) {
        List<Parameter> a = parameters(), b = other.parameters();
        if (a.size() != b.size()) throw new IllegalArgumentException("copyWeightsFrom: models have different parameter lists");
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).name().equals(b.get(i).name()) || !Arrays.equals(a.get(i).shape(), b.get(i).shape()))
                throw new IllegalArgumentException("copyWeightsFrom: parameter " + a.get(i).name() + " does not match " + b.get(i).name());
            a.get(i).copyFrom(b.get(i).data());
        }
        List<Parameter> ba = buffers(), bb = other.buffers();
        for (int i = 0; i < ba.size(); i++) ba.get(i).copyFrom(bb.get(i).data());
    }

    /** A deep copy (same config, copied weights). */
    public CausalLM copy() {
        CausalLM m = new CausalLM(config, hfConfig, sourceConfigJson, sourceDir, null);
        m.generationConfigJson = generationConfigJson;
        m.copyWeightsFrom(this);
        if (device() == null && precision().fp8Recipe() != null) m.precision(precision());
        return m;
    }

    /**
     * Moves every parameter to {@code device} in place (one upload per parameter: the "weights on
     * load" edge); forward, backward and {@link io.r1kit.model.optim.AdamW} then run there. The
     * RoPE tables follow on the first forward (once); generation, {@link #scoreTokens} and gradient
     * checkpointing run there too.
     */
    public CausalLM moveTo(DeviceBackend device) {
        for (Parameter p : parameters()) p.moveTo(device);
        if (lora != null) for (Parameter p : lora.parameters()) p.moveTo(device);
        return this;
    }

    /** Moves every parameter back to the host in place (one download per parameter); precision returns to FP32. */
    public CausalLM moveToHost() {
        for (Parameter p : parameters()) p.moveToHost();
        if (lora != null) for (Parameter p : lora.parameters()) p.moveToHost();
        setLayersBf16(false);
        return this;
    }

    /**
     * Mixed precision of a device model (default FP32, which changes nothing). BF16: every decoder
     * layer's projection (q/k/v/o, gate/up/down) reads its weight's bf16 copy through the bf16 GEMM
     * (kept current by AdamW's mixed step, cast once after any other write), and the activations
     * those GEMMs save for backward (the two RMSNorm outputs and the SwiGLU output) are stored in
     * bf16. Left in fp32: the attention output (o_proj's input; attention's backward reads it), the
     * embedding, the final norm and the lm head (tied or not), and generation's raw forward.
     * DeepSeek-V3: the same for MLA's five projections (their inputs stored in bf16 except the
     * attention output), every expert's, shared expert's and dense MLP's projections, and each MTP
     * module's block and eh_proj; the routers stay fp32. FP8 (the host emulation) is implemented for
     * the Llama / Qwen projections only and is refused for DeepSeek-V3.
     */
    public CausalLM precision(Precision precision) {
        if (precision == Precision.BF16 && device() == null)
            throw new IllegalStateException("precision bf16 needs a device model (moveTo a DeviceBackend first)");
        if (precision.fp8Recipe() != null && !dsLayers.isEmpty())
            throw new IllegalStateException("precision " + precision.name().toLowerCase(Locale.ROOT)
                    + " is implemented for Llama / Qwen layers only, not for DeepSeek-V3 (use fp32 or, on a device, bf16)");
        if (precision == Precision.BF16 && lora != null)
            throw new UnsupportedOperationException("lora: precision bf16 is not supported with adapters; use fp32");
        if (precision.fp8Recipe() != null && device() != null)
            throw new IllegalStateException("precision " + precision.name().toLowerCase(Locale.ROOT)
                    + " runs on the host (the CPU emulation of V3's FP8 GEMMs); device models support fp32 and bf16");
        setLayersBf16(precision == Precision.BF16);
        for (DecoderLayer l : layers) l.fp8(precision.fp8Recipe());
        return this;
    }

    public Precision precision() {
        if (!dsLayers.isEmpty()) return dsLayers.get(0).bf16() ? Precision.BF16 : Precision.FP32;
        if (layers.isEmpty()) return Precision.FP32;
        DecoderLayer l = layers.get(0);
        if (l.bf16()) return Precision.BF16;
        if (l.fp8() != null) return l.fp8().perTensor() ? Precision.FP8_TENSOR : Precision.FP8;
        return Precision.FP32;
    }

    private void setLayersBf16(boolean on) {
        for (DecoderLayer l : layers) l.bf16(on);
        for (DeepseekV3Layer l : dsLayers) l.bf16(on);
        for (MtpModule md : mtp) md.bf16(on);
    }

    /** The device the parameters live on, or null for a host model. */
    public DeviceBackend device() {
        return embed.device();
    }

    /** Recompute each block in backward instead of keeping its activations (only matters with grad on). */
    public CausalLM gradientCheckpointing(boolean on) {
        this.gradientCheckpointing = on;
        return this;
    }

    public boolean gradientCheckpointing() {
        return gradientCheckpointing;
    }

    // ------------------------------------------------------------------ forward

    /**
     * The final hidden states (after model.norm) [B, T, C].
     * @param ids       [B·T] token ids
     * @param positions [B·T] position ids, or null for 0..T-1 in every row (left-padded rows pass
     *                  their own offsets: position 0 at the first real token)
     * @param keyMask   [B·T], 0 = padding (never attended to), or null
     */
    public Tensor forwardHidden(int[] ids, int B, int T, int[] positions, byte[] keyMask) {
        return forwardHidden(ids, B, T, positions, keyMask, null);
    }

    /** {@link #forwardHidden} that also hands each layer's roped k and v to {@code sink} (KV-cache prefill). */
    public Tensor forwardHidden(int[] ids, int B, int T, int[] positions, byte[] keyMask, KvSink sink) {
        int n = B * T;
        if (B <= 0 || T <= 0) throw new IllegalArgumentException("forward: B and T must be > 0, got B=" + B + ", T=" + T);
        if (ids.length != n) throw new IllegalArgumentException("forward: ids has " + ids.length + " entries, expected B*T = " + n);
        int V = config.vocabSize();
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= V)
                throw new IllegalArgumentException("forward: token id " + ids[i] + " at " + i + " is outside the vocabulary [0, " + V + ")");
        }
        int[] pos = positions == null ? F.positions(B, T) : positions;
        if (pos.length != n) throw new IllegalArgumentException("forward: positions has " + pos.length + " entries, expected " + n);
        for (int i = 0; i < n; i++) {
            if (pos[i] < 0 || pos[i] >= config.maxPositions())
                throw new IllegalArgumentException("forward: position " + pos[i] + " outside [0, " + config.maxPositions()
                        + ") (max_position_embeddings)");
        }
        if (keyMask != null && keyMask.length != n)
            throw new IllegalArgumentException("forward: keyMask has " + keyMask.length + " entries, expected " + n);
        Tensor x = F.embedding(embed, ids, B, T);
        boolean ckpt = gradientCheckpointing && Grad.isEnabled() && sink == null;
        if (!dsLayers.isEmpty()) {
            if (sink != null) throw new UnsupportedOperationException("forward: a KvSink (Llama/Qwen KV-cache prefill) does not apply to DeepSeek-V3");
            lastPreNorm = null;
            for (DeepseekV3Layer layer : dsLayers) {
                // checkpointing recomputes the whole block in backward, the MLA up-projections included
                x = ckpt ? Checkpoint.run(h -> layer.forward(h, B, T, pos, keyMask, rope), x) : layer.forward(x, B, T, pos, keyMask, rope);
            }
            if (!mtp.isEmpty()) lastPreNorm = x;
            return F.rmsNorm(x, norm, (float) config.rmsEps());
        }
        for (DecoderLayer layer : layers) {
            if (ckpt) {
                x = Checkpoint.run(h -> layer.forward(h, B, T, pos, keyMask, rope, null), x);
            } else {
                x = layer.forward(x, B, T, pos, keyMask, rope, sink);
            }
        }
        return F.rmsNorm(x, norm, (float) config.rmsEps());
    }

    /** Logits [B, T, V] (materialised: fine for small vocabularies or short sequences; see {@link #scoreTokens}). */
    public Tensor forward(int[] ids, int B, int T, int[] positions, byte[] keyMask) {
        return logits(forwardHidden(ids, B, T, positions, keyMask));
    }

    /** Logits of hidden states [..., C] → [..., V]. */
    public Tensor logits(Tensor hidden) {
        return F.linear(hidden, lmHeadWeight());
    }

    /** Teacher-forced scores of a {@link Batch} at temperature 1. */
    public TokenScores scoreTokens(Batch batch, boolean withEntropy) {
        return scoreTokens(batch, 1f, withEntropy);
    }

    /** Teacher-forced scores of a {@link Batch} under softmax(logits / temperature). */
    public TokenScores scoreTokens(Batch batch, float temperature, boolean withEntropy) {
        return scoreTokens(batch.ids(), batch.B(), batch.T(), batch.positions(), batch.keyMask(), batch.targets(),
                temperature, withEntropy);
    }

    /**
     * Per-position log-probs of {@code targets} [B·T] (negative = skip, scores 0) under
     * softmax(logits / temperature), and optionally the entropy of that distribution, WITHOUT
     * materialising [B, T, V]: the lm_head runs over chunks of rows fused with the log-softmax
     * (and recomputed chunk-wise in backward). Differentiable w.r.t. all parameters when grad is on.
     */
    public TokenScores scoreTokens(int[] ids, int B, int T, int[] positions, byte[] keyMask, int[] targets,
                                   float temperature, boolean withEntropy) {
        if (targets.length != B * T)
            throw new IllegalArgumentException("scoreTokens: targets has " + targets.length + " entries, expected B*T = " + B * T);
        Tensor h = F.reshape(forwardHidden(ids, B, T, positions, keyMask), B * T, config.hiddenSize());
        return scoreHidden(h, targets, B, T, temperature, withEntropy);
    }

    /** {@link #scoreTokens} of final hidden states h [B·T, C] (after the final norm). */
    private TokenScores scoreHidden(Tensor h, int[] targets, int B, int T, float temperature, boolean withEntropy) {
        // two lm-head algorithms: the host chunks only the scored rows (LmHeadScores), the device runs all rows
        // at once (F.linearTokenLogProbs); their GEMM shapes differ, so one form would move the other's numbers
        if (h.isOnDevice()) {
            // the device's fused lm-head ops, one per score (each its own [N, V] scratch, see F); the
            // entropy is 0 where the target is negative (the host form scores every row's entropy)
            Tensor lp = F.reshape(F.linearTokenLogProbs(h, lmHeadWeight(), targets, 0, temperature), B, T);
            Tensor ent = withEntropy ? F.reshape(F.linearEntropy(h, lmHeadWeight(), targets, 0, temperature), B, T) : null;
            return new TokenScores(lp, ent);
        }
        Tensor both = LmHeadScores.apply(h, lmHeadWeight(), targets, temperature, withEntropy);
        Tensor lp = F.reshape(F.slice(both, 1, 0, 1), B, T);
        Tensor ent = withEntropy ? F.reshape(F.slice(both, 1, 1, 2), B, T) : null;
        return new TokenScores(lp, ent);
    }

    // ------------------------------------------------------------------ DeepSeek-V3: MTP and MoE balancing

    /**
     * Teacher-forced scores of the main model and of every MTP module (DeepSeek-V3 with
     * num_nextn_predict_layers &gt; 0). Module d (0-based) sees at position i the previous depth's
     * hidden state and the embedding of token i+d+1 (ids shifted left by d+1 within each row, 0 past
     * the end), and is scored on targets[i+d+1] (the token i+d+2; −1 past the end or where the main
     * target is −1), so with right padding no position reads another row. Differentiable.
     */
    public MtpScores scoreTokensWithMtp(Batch batch) {
        int B = batch.B(), T = batch.T(), C = config.hiddenSize();
        int[] ids = batch.ids(), targets = batch.targets();
        int[] pos = batch.positions();
        Tensor h = forwardHidden(ids, B, T, batch.positions(), batch.keyMask());
        TokenScores main = scoreHidden(F.reshape(h, B * T, C), targets, B, T, 1f, false);
        Tensor prev = lastPreNorm;
        List<Tensor> depth = new ArrayList<>();
        for (int d = 0; d < mtp.size(); d++) {
            int shift = d + 1;
            int[] nextIds = new int[B * T], tgt = new int[B * T];
            for (int b = 0; b < B; b++) {
                for (int t = 0; t < T; t++) {
                    int src = t + shift;
                    nextIds[b * T + t] = src < T ? ids[b * T + src] : 0;
                    tgt[b * T + t] = src < T ? targets[b * T + src] : -1;
                }
            }
            MtpModule md = mtp.get(d);
            Tensor out = md.forward(prev, F.embedding(embed, nextIds, B, T), B, T, pos, batch.keyMask(), rope);
            depth.add(scoreHidden(F.reshape(md.headInput(out), B * T, C), tgt, B, T, 1f, false).logprobs());
            prev = out;
        }
        return new MtpScores(main, depth);
    }

    /** Scores of the main model and of each MTP depth ([B, T] log-probs, 0 where the target is −1). */
    public record MtpScores(TokenScores main, List<Tensor> mtpLogprobs) {}

    /** True when some layer is a DeepSeekMoE block. */
    public boolean hasMoe() {
        return !buffers().isEmpty();
    }

    private List<DeepseekMoe> moeBlocks() {
        List<DeepseekMoe> out = new ArrayList<>();
        for (DeepseekV3Layer l : allDeepseekLayers()) if (l.moe() != null) out.add(l.moe());
        return out;
    }

    /**
     * The sum of the MoE layers' sequence-wise balance losses of the forwards since the last call
     * (aux_loss_alpha &gt; 0 and grad on), or null when there is none. Clears them.
     */
    public Tensor takeMoeAuxLoss() {
        Tensor sum = null;
        for (DeepseekMoe m : moeBlocks()) {
            Tensor a = m.takeAuxLoss();
            if (a != null) sum = sum == null ? a : F.add(sum, a);
        }
        return sum;
    }

    /**
     * Expert load of the training forwards since the last call, and DeepSeek-V3's auxiliary-loss-free
     * balancing: every routed expert's correction bias moves by −γ·sign(load − mean load) of its layer
     * (γ = {@code biasUpdateSpeed}; 0 only measures). No gradient is involved. Clears the counts.
     * Ratios are over all MoE layers' experts (worst layer for max, best for min); NaN without MoE layers
     * or without counted tokens.
     */
    public MoeBalance updateExpertBias(double biasUpdateSpeed) {
        double maxOver = Double.NaN, minOver = Double.NaN, absSum = 0;
        long assigned = 0, expected = 0;
        int biases = 0;
        for (DeepseekMoe m : moeBlocks()) {
            long[] load = m.load();
            long total = 0;
            for (long l : load) total += l;
            if (total > 0) {
                double mean = (double) total / load.length;
                float[] b = m.bias.data();
                for (int e = 0; e < load.length; e++) {
                    b[e] -= (float) (biasUpdateSpeed * Math.signum(load[e] - mean));
                    double r = load[e] / mean;
                    maxOver = Double.isNaN(maxOver) ? r : Math.max(maxOver, r);
                    minOver = Double.isNaN(minOver) ? r : Math.min(minOver, r);
                }
            }
            assigned += total;
            expected += m.tokens() * config.deepseek().numExpertsPerTok();   // no capacity limit: every token gets its k experts
            for (float v : m.bias.data()) absSum += Math.abs(v);
            biases += load.length;
            m.resetLoad();
        }
        return new MoeBalance(maxOver, minOver, biases == 0 ? Double.NaN : absSum / biases, expected - assigned);
    }

    /**
     * DeepSeekMoE balance metrics: {@code moe/load_max_over_mean}, {@code moe/load_min_over_mean},
     * {@code moe/bias_abs_mean} and {@code moe/dropped_tokens} (always 0: no capacity factor).
     */
    public record MoeBalance(double loadMaxOverMean, double loadMinOverMean, double biasAbsMean, long droppedTokens) {
        public Map<String, Object> metrics() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("moe/load_max_over_mean", loadMaxOverMean);
            m.put("moe/load_min_over_mean", loadMinOverMean);
            m.put("moe/bias_abs_mean", biasAbsMean);
            m.put("moe/dropped_tokens", droppedTokens);
            return m;
        }
    }

    @Override
    public String toString() {
        return config.family().className() + "(" + config.numLayers() + " layers, hidden " + config.hiddenSize() + ", vocab "
                + config.vocabSize() + ", " + config.parameterCount() + " params)";
    }
}
