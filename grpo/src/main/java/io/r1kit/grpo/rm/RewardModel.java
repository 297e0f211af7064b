package io.r1kit.grpo.rm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.HfCheckpointWriter;
import io.r1kit.model.hf.HfJson;
import io.r1kit.model.hf.NamedTensor;
import io.r1kit.model.hf.TensorInfo;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.model.backend.device.DeviceBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A scalar reward model: the policy architecture ({@link CausalLM#forwardHidden}, i.e. the hidden
 * states after the final norm) with a value head {@code score.weight} [1, C] applied to the hidden
 * state of each sequence's LAST token (sequences are right-padded, so that is the last non-pad
 * token), as transformers' {@code LlamaForSequenceClassification} with {@code num_labels = 1}.
 *
 * <p><b>On-disk layout.</b> r1kit's HF reader only accepts {@code *ForCausalLM} architectures, so
 * config.json keeps the policy's architecture and {@code model.safetensors} holds every tensor of
 * the backbone (lm_head included, so the directory stays a complete policy checkpoint) plus the head
 * tensor {@code score.weight} [1, hidden]. config.json gets {@code "num_labels": 1} and an
 * {@code "r1kit_reward_model"} object with the encoding ({@code add_special_tokens}, {@code append_eos},
 * {@code max_length}), the pooling ({@code last_token}) and, once measured, the mean/std of held-out
 * scores ({@code score_mean}, {@code score_std}) that the reward function can normalise with. To
 * use the directory with transformers' {@code AutoModelForSequenceClassification}, change
 * {@code architectures} to {@code ["LlamaForSequenceClassification"]} (or the Qwen one) and set
 * {@code pad_token_id}; the extra lm_head tensor is then reported as unused.
 * {@link CausalLM#load} refuses the directory (it rejects the unknown {@code score.weight}), so
 * load it with {@link #load}.
 */
public final class RewardModel {

    /** Name of the head tensor (as transformers' *ForSequenceClassification). */
    public static final String HEAD = "score.weight";
    /** The config.json key holding r1kit's reward-model settings. */
    public static final String CONFIG_KEY = "r1kit_reward_model";

    /**
     * How a (prompt, response) pair becomes token ids.
     *
     * @param addSpecialTokens encode the prompt with the tokenizer's special tokens (BOS)
     * @param appendEos        append the tokenizer's EOS after the response, so the scored token is always EOS
     * @param maxLength        tokens at most; longer inputs keep their LAST {@code maxLength} tokens (the end of the
     *                         response is what is scored)
     */
    public record Encoding(boolean addSpecialTokens, boolean appendEos, int maxLength) {
        public Encoding {
            if (maxLength < 1) throw new IllegalArgumentException("reward model max_length must be ≥ 1, got " + maxLength);
        }
    }

    private final CausalLM backbone;
    private final Parameter head;
    private final Encoding encoding;
    private final JsonNode baseConfig;     // config.json of the backbone (unknown keys kept)
    private final Path tokenizerDir;       // where the tokenizer files come from when saving (may be null)
    private double scoreMean = Double.NaN, scoreStd = Double.NaN;

    private RewardModel(CausalLM backbone, Parameter head, Encoding encoding, JsonNode baseConfig, Path tokenizerDir) {
        int c = backbone.config().hiddenSize();
        if (!Arrays.equals(head.shape(), new int[] {1, c}))
            throw new IllegalArgumentException("reward head must be [1, " + c + "], got " + Arrays.toString(head.shape()));
        this.backbone = backbone;
        this.head = head;
        this.encoding = encoding;
        this.baseConfig = baseConfig;
        this.tokenizerDir = tokenizerDir;
    }

    /**
     * A reward model initialised from a policy (its weights are shared, not copied: pass
     * {@code base.copy()} to keep the policy). The head is normal(0, initStd) like transformers'
     * {@code _init_weights} for {@code score}.
     */
    public static RewardModel fromPolicy(CausalLM base, Encoding encoding, long seed) {
        int c = base.config().hiddenSize();
        Parameter head = Parameter.randn(HEAD, new SplittableRandom(seed), (float) base.config().initStd(), 1, c);
        JsonNode cfg;
        try {
            cfg = base.sourceDir() != null && Files.exists(base.sourceDir().resolve(HfCheckpoint.CONFIG))
                    ? HfJson.read(base.sourceDir().resolve(HfCheckpoint.CONFIG)) : base.hfConfig().toJson();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + base.sourceDir().resolve(HfCheckpoint.CONFIG), e);
        }
        return new RewardModel(base, head, encoding, cfg, base.sourceDir());
    }

    /** Loads a directory written by {@link #save}; errors name the file and tensor. */
    public static RewardModel load(Path dir) throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            Path configFile = dir.resolve(HfCheckpoint.CONFIG);
            if (!ck.contains(HEAD)) {
                throw new CheckpointException(dir, HEAD, "tensor is missing: this is not a reward model directory (train one with the "
                        + "reward_model stage; a policy checkpoint has no value head)");
            }
            ModelConfig cfg = ModelConfig.fromHf(ck.config(), configFile);
            CausalLM m = CausalLM.random(cfg, 0);
            for (Parameter p : m.parameters()) {
                if (!ck.contains(p.name()))
                    throw new CheckpointException(dir, p.name(), "tensor is missing from the reward model, but config.json requires it");
                TensorInfo info = ck.info(p.name());
                if (!Arrays.equals(info.shape(), p.shape()))
                    throw new CheckpointException(info.file(), p.name(), "has shape " + Arrays.toString(info.shape())
                            + " but config.json implies " + Arrays.toString(p.shape()));
                p.copyFrom(ck.load(p.name()));
            }
            int c = cfg.hiddenSize();
            Parameter head = new Parameter(HEAD, ck.load(HEAD, 1, c), 1, c);
            JsonNode raw = ck.rawConfig();
            JsonNode rm = raw.path(CONFIG_KEY);
            Encoding enc = new Encoding(rm.path("add_special_tokens").asBoolean(true), rm.path("append_eos").asBoolean(true),
                    rm.path("max_length").asInt(1024));
            RewardModel out = new RewardModel(m, head, enc, raw, dir);
            if (rm.hasNonNull("score_mean") && rm.hasNonNull("score_std")) out.setScoreStats(rm.get("score_mean").asDouble(), rm.get("score_std").asDouble());
            return out;
        }
    }

    /** Writes the HF-layout directory (see the class comment), atomically; F32. */
    public void save(Path dir) throws IOException {
        ObjectNode cfg = baseConfig.deepCopy();
        cfg.put("num_labels", 1);
        ObjectNode rm = cfg.putObject(CONFIG_KEY);
        rm.put("head", HEAD);
        rm.put("pooling", "last_token");
        rm.put("add_special_tokens", encoding.addSpecialTokens());
        rm.put("append_eos", encoding.appendEos());
        rm.put("max_length", encoding.maxLength());
        if (Double.isFinite(scoreMean) && Double.isFinite(scoreStd)) {
            rm.put("score_mean", scoreMean);
            rm.put("score_std", scoreStd);
        }
        HfCheckpointWriter w = new HfCheckpointWriter().config(cfg).dtype(DType.F32);
        if (tokenizerDir != null) w.tokenizerFrom(tokenizerDir);
        List<NamedTensor> tensors = new ArrayList<>(backbone.namedTensors());
        tensors.add(new NamedTensor(HEAD, head.shape(), head.data()));
        w.save(dir, tensors);
    }

    public CausalLM backbone() { return backbone; }

    public Parameter head() { return head; }

    public Encoding encoding() { return encoding; }

    /** Mean of held-out scores (NaN when not measured). */
    public double scoreMean() { return scoreMean; }

    /** Standard deviation of held-out scores (NaN when not measured). */
    public double scoreStd() { return scoreStd; }

    public void setScoreStats(double mean, double std) {
        this.scoreMean = mean;
        this.scoreStd = std;
    }

    /**
     * Parameters that get gradients: the backbone without an untied lm_head (which the reward does
     * not use), plus the head.
     */
    /**
     * Moves the backbone and the head to {@code device} in place (one upload per parameter):
     * forward, the Bradley–Terry loss and AdamW then run there; {@link #save} copies them out.
     */
    public RewardModel moveTo(DeviceBackend device) {
        backbone.moveTo(device);
        head.moveTo(device);
        return this;
    }

    public List<Parameter> trainableParameters() {
        List<Parameter> out = new ArrayList<>();
        Parameter lm = backbone.config().tieEmbeddings() ? null : backbone.lmHeadWeight();
        for (Parameter p : backbone.parameters()) if (p != lm) out.add(p);
        out.add(head);
        return out;
    }

    /**
     * ids of {@code prompt + response}: the prompt encoded with {@code add_special_tokens}, the
     * response without, then EOS ({@code append_eos}); inputs longer than {@code max_length} keep
     * their last {@code max_length} tokens.
     */
    public int[] encode(Tokenizer tok, String prompt, String response) {
        int[] p = tok.encode(prompt, encoding.addSpecialTokens());
        int[] r = tok.encode(response, false);
        boolean eos = encoding.appendEos() && tok.eosId().isPresent();
        int n = p.length + r.length + (eos ? 1 : 0);
        if (n == 0) throw new IllegalArgumentException("reward model: prompt and response encode to no tokens");
        int[] ids = new int[n];
        System.arraycopy(p, 0, ids, 0, p.length);
        System.arraycopy(r, 0, ids, p.length, r.length);
        if (eos) ids[n - 1] = tok.eosId().getAsInt();
        return n > encoding.maxLength() ? Arrays.copyOfRange(ids, n - encoding.maxLength(), n) : ids;
    }

    /**
     * Scores of a batch, with autograd when it is enabled: right-pad to the longest row, run the
     * backbone, take the hidden state at each row's last token, apply the head. → [B].
     */
    public Tensor forward(List<int[]> seqs) {
        int b = seqs.size();
        if (b == 0) throw new IllegalArgumentException("reward model: empty batch");
        int t = 0;
        for (int[] s : seqs) {
            if (s.length == 0) throw new IllegalArgumentException("reward model: empty sequence in the batch");
            t = Math.max(t, s.length);
        }
        int c = backbone.config().hiddenSize();
        int[] ids = new int[b * t];
        byte[] mask = new byte[b * t];
        int[] last = new int[b];
        for (int i = 0; i < b; i++) {
            int[] s = seqs.get(i);
            System.arraycopy(s, 0, ids, i * t, s.length);   // padding ids stay 0 and are masked out
            Arrays.fill(mask, i * t, i * t + s.length, (byte) 1);
            last[i] = i * t + s.length - 1;
        }
        Tensor hidden = backbone.forwardHidden(ids, b, t, null, mask);        // [B, T, C]
        Tensor pooled = F.indexSelect(F.reshape(hidden, b * t, c), last);     // [B, C]
        return F.reshape(F.linear(pooled, head), b);                          // [B, 1] → [B]
    }

    /** Scores without autograd, {@code batchSize} rows per forward (rows sorted by length to limit padding). */
    public float[] score(List<int[]> seqs, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch_size must be ≥ 1, got " + batchSize);
        Integer[] order = new Integer[seqs.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> seqs.get(i).length));
        float[] out = new float[seqs.size()];
        try (var ng = Grad.noGrad()) {
            for (int s = 0; s < order.length; s += batchSize) {
                int e = Math.min(order.length, s + batchSize);
                List<int[]> batch = new ArrayList<>();
                for (int k = s; k < e; k++) batch.add(seqs.get(order[k]));
                float[] r = forward(batch).toArray();
                for (int k = s; k < e; k++) out[order[k]] = r[k - s];
            }
        }
        return out;
    }

    /** Settings written under {@link #CONFIG_KEY} (for logs). */
    public Map<String, Object> describe() {
        return Map.of("add_special_tokens", encoding.addSpecialTokens(), "append_eos", encoding.appendEos(),
                "max_length", encoding.maxLength(), "hidden_size", backbone.config().hiddenSize());
    }
}
