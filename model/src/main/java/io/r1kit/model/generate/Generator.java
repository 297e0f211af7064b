package io.r1kit.model.generate;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.Parallel;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Batched sampling with a KV cache (no gradients recorded).
 *
 * <p>Flow for a request of P prompts × n samples: the prompts are prefilled together, left-padded
 * to the longest with a key mask and per-row positions (position 0 at each row's first real
 * token), through the same {@link CausalLM#forwardHidden} code that training uses; each prompt's
 * roped keys/values go to one cache row and are copied to its n sample rows (prompt computed once).
 * Then every step samples one token per live row and runs one {@link DecodeStep} over the live rows
 * only (finished rows drop out). Rows are processed in waves of at most {@code maxBatchRows}.
 *
 * <p>A model on a {@link io.r1kit.model.backend.device.DeviceBackend} decodes on that device
 * ({@link DeviceWave}): same flow, but a wave's prompts are prefilled in one pass (prefillBatch is
 * ignored) and only the sampled ids / log-probs cross to the host each step.
 *
 * <p>Completion j of prompt p draws from its own random stream seeded by (seed, p·n + j), so the
 * result does not depend on how rows are batched, only on the seed and the model's logits.
 */
public final class Generator {
    private final CausalLM model;
    private final Function<int[], String> stopDecoder;  // for stop strings (keeps special tokens)
    private final Function<int[], String> textDecoder;  // for Completion.text
    private final Set<Integer> eosIds;
    private final DeviceForward deviceForward;   // null: the model is on the host
    private int maxBatchRows = 64;
    private int prefillBatch = 8;

    /** Without a decoder: stop strings are refused and completions carry no text. EOS ids from config.json. */
    public Generator(CausalLM model) {
        this(model, null, null, Set.of());
    }

    /** With a tokenizer: stop strings, decoded text (special tokens skipped), EOS = tokenizer's and config.json's. */
    public Generator(CausalLM model, Tokenizer tokenizer) {
        this(model, ids -> tokenizer.decode(ids, false), ids -> tokenizer.decode(ids, true), tokenizer.eosIds());
    }

    /** With a per-token text function (pieces are concatenated; exact for char-level vocabularies). */
    public Generator(CausalLM model, IntFunction<String> tokenText) {
        this(model, concat(tokenText), concat(tokenText), Set.of());
    }

    private Generator(CausalLM model, Function<int[], String> stopDecoder, Function<int[], String> textDecoder,
                      Set<Integer> extraEos) {
        this.model = model;
        // a device model decodes on its device (DeviceWave): per step only ids, positions and
        // uniforms go in and the sampled ids and log-probs come out
        this.deviceForward = model.device() == null || model.config().isDeepseekV3() ? null : new DeviceForward(model);
        this.stopDecoder = stopDecoder;
        this.textDecoder = textDecoder;
        Set<Integer> eos = new HashSet<>(model.hfConfig().eosTokenIds());
        eos.addAll(extraEos);
        this.eosIds = Set.copyOf(eos);
    }

    private static Function<int[], String> concat(IntFunction<String> f) {
        return ids -> {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) sb.append(f.apply(id));
            return sb.toString();
        };
    }

    /** Rows decoded together at most (memory: KV caches of this many sequences + [rows, V] logits). */
    public Generator maxBatchRows(int rows) {
        if (rows < 1) throw new IllegalArgumentException("maxBatchRows must be >= 1");
        this.maxBatchRows = rows;
        return this;
    }

    /** Prompts prefilled in one forward pass at most. */
    public Generator prefillBatch(int prompts) {
        if (prompts < 1) throw new IllegalArgumentException("prefillBatch must be >= 1");
        this.prefillBatch = prompts;
        return this;
    }

    public Set<Integer> eosIds() {
        return eosIds;
    }

    public CausalLM model() {
        return model;
    }

    /** One completion per prompt, in prompt order. */
    public List<Completion> generate(List<int[]> prompts, SamplingParams params) {
        return generate(prompts, 1, params);
    }

    /**
     * n completions per prompt (GRPO groups), ordered prompt-major: completion j of prompt p is at
     * index p·n + j. Each prompt is prefilled once.
     */
    public List<Completion> generate(List<int[]> prompts, int n, SamplingParams params) {
        return generate(prompts, n, params, 0);
    }

    /**
     * {@link #generate(List, int, SamplingParams)} for a slice of a larger batch that starts at prompt
     * {@code firstPrompt} of that batch: completion j of prompt p draws from stream (seed,
     * (firstPrompt + p)·n + j), so slices generated apart (on a cluster's executors) give the whole
     * batch's completions.
     */
    public List<Completion> generate(List<int[]> prompts, int n, SamplingParams params, int firstPrompt) {
        if (firstPrompt < 0) throw new IllegalArgumentException("generate: firstPrompt must be >= 0, got " + firstPrompt);
        if (n < 1) throw new IllegalArgumentException("generate: n must be >= 1, got " + n);
        if (!params.stopStrings().isEmpty() && stopDecoder == null)
            throw new IllegalArgumentException("generate: stop strings need a decoder (construct the Generator with a Tokenizer or IntFunction)");
        int V = model.config().vocabSize();
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i);
            if (p.length == 0) throw new IllegalArgumentException("generate: prompt " + i + " is empty");
            for (int t : p) {
                if (t < 0 || t >= V) throw new IllegalArgumentException("generate: prompt " + i + " has token id " + t + " outside [0, " + V + ")");
            }
            if (p.length + 1 > model.config().maxPositions())
                throw new IllegalArgumentException("generate: prompt " + i + " has " + p.length + " tokens, max_position_embeddings is "
                        + model.config().maxPositions());
        }
        if (!model.config().isDeepseekV3() && model.device() != (deviceForward == null ? null : deviceForward.dev))   // moved since construction: the other path would copy per op
            throw new IllegalStateException("generate: the model moved to " + (model.device() == null ? "the host" : model.device().name())
                    + " after this Generator was made; make a new Generator");
        Completion[] out = new Completion[prompts.size() * n];
        try (var ng = Grad.noGrad()) {
            int wave = Math.max(1, maxBatchRows / n);
            for (int p0 = 0; p0 < prompts.size(); p0 += wave) {
                int p1 = Math.min(prompts.size(), p0 + wave);
                runWave(prompts, p0, p1, n, params, firstPrompt, out);
            }
        }
        return Arrays.asList(out);
    }

    private void runWave(List<int[]> prompts, int p0, int p1, int n, SamplingParams sp, int firstPrompt, Completion[] out) {
        if (model.config().isDeepseekV3()) {
            runWaveRecomputing(prompts, p0, p1, n, sp, firstPrompt, out);
            return;
        }
        if (deviceForward != null) {
            int rows = (p1 - p0) * n;
            WaveRows res = new WaveRows(rows, sp, stopIds(sp), stopDecoder);
            new DeviceWave(deviceForward, prompts.subList(p0, p1), n, sp, rowRandoms(firstPrompt + p0, rows, n, sp)).run(res);
            res.writeTo(out, p0, n, textDecoder);
            return;
        }
        ModelConfig c = model.config();
        int V = c.vocabSize(), P = p1 - p0, rows = P * n;
        KvCache cache = new KvCache(c, rows);
        Set<Integer> stopIds = stopIds(sp);
        int[] cap = new int[rows];
        for (int r = 0; r < rows; r++) {
            int plen = prompts.get(p0 + r / n).length;
            cap[r] = Math.min(plen + sp.maxNewTokens(), c.maxPositions());
            cache.allocate(r, cap[r]);
        }
        // ---- prefill: prompt p goes to cache row p*n, then is copied to rows p*n+1 .. p*n+n-1
        float[] first = new float[P * V];
        for (int a = 0; a < P; a += prefillBatch) {
            int b = Math.min(P, a + prefillBatch);
            prefill(prompts, p0 + a, p0 + b, cache, n, a, first);
        }
        for (int p = 0; p < P; p++) for (int j = 1; j < n; j++) cache.copyRow(p * n, p * n + j);

        // ---- decode loop
        WaveRows res = new WaveRows(rows, sp, stopIds, stopDecoder);
        int[][] toks = res.toks;
        float[][] lps = res.lps;
        int[] len = res.len;
        SplittableRandom[] rng = rowRandoms(firstPrompt + p0, rows, n, sp);
        DecodeStep step = new DecodeStep(model, rows);
        int[] live = new int[rows], liveTok = new int[rows];
        int M = rows;
        for (int r = 0; r < rows; r++) live[r] = r;
        float[] logits = first;
        boolean firstStep = true;
        ThreadLocal<Sampler> samplers = ThreadLocal.withInitial(() -> new Sampler(V));
        while (M > 0) {
            final float[] lg = logits;
            final boolean fs = firstStep;
            final int[] liveF = live;
            Parallel.forRange(M, 1, (i0, i1) -> {
                Sampler s = samplers.get();
                for (int i = i0; i < i1; i++) {
                    int r = liveF[i];
                    int off = fs ? (r / n) * V : i * V;
                    toks[r][len[r]] = s.sample(lg, off, sp, rng[r], lps[r], len[r]);
                }
            });
            int w = 0;
            for (int i = 0; i < M; i++) {
                int r = live[i];
                // the sampled token is not in the cache yet: prompt + completion = cache.length + 1 positions
                if (res.acceptAndFinish(r, cache.length[r] + 1 >= cap[r])) {
                    cache.release(r);
                } else {
                    live[w] = r;
                    liveTok[w++] = toks[r][len[r] - 1];
                }
            }
            M = w;
            if (M == 0) break;
            logits = step.step(cache, live, liveTok, M);
            firstStep = false;
        }
        res.writeTo(out, p0, n, textDecoder);
    }

    /**
     * DeepSeek-V3's decode without a cache: every step runs the live rows' whole sequences (left
     * padded, per-row positions, key mask) through {@link CausalLM#forwardHidden} and samples from the
     * last position's logits, with the same per-row random streams and stop rules as the cached path.
     * Quadratic in the length; it is the reference the MLA compressed cache must reproduce.
     */
    private void runWaveRecomputing(List<int[]> prompts, int p0, int p1, int n, SamplingParams sp, int firstPrompt, Completion[] out) {
        ModelConfig c = model.config();
        int V = c.vocabSize(), C = c.hiddenSize(), rows = (p1 - p0) * n;
        WaveRows res = new WaveRows(rows, sp, stopIds(sp), stopDecoder);
        SplittableRandom[] rng = rowRandoms(firstPrompt + p0, rows, n, sp);
        int[] cap = new int[rows];
        List<Integer> live = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            cap[r] = Math.min(prompts.get(p0 + r / n).length + sp.maxNewTokens(), c.maxPositions());
            live.add(r);
        }
        Sampler sampler = new Sampler(V);
        while (!live.isEmpty()) {
            int M = live.size(), T = 0;
            int[][] seqs = new int[M][];
            for (int i = 0; i < M; i++) {
                int r = live.get(i);
                int[] p = prompts.get(p0 + r / n);
                int[] s = Arrays.copyOf(p, p.length + res.len[r]);
                System.arraycopy(res.toks[r], 0, s, p.length, res.len[r]);
                seqs[i] = s;
                T = Math.max(T, s.length);
            }
            int[] ids = new int[M * T], pos = new int[M * T];
            byte[] mask = new byte[M * T];
            for (int i = 0; i < M; i++) {
                int pad = T - seqs[i].length;
                for (int t = pad; t < T; t++) {
                    ids[i * T + t] = seqs[i][t - pad];
                    pos[i * T + t] = t - pad;
                    mask[i * T + t] = 1;
                }
            }
            Tensor h = F.reshape(model.forwardHidden(ids, M, T, pos, mask), M * T, C);
            int[] lastRows = new int[M];
            for (int i = 0; i < M; i++) lastRows[i] = i * T + T - 1;
            float[] logits = model.logits(F.indexSelect(h, lastRows)).toArray();
            List<Integer> next = new ArrayList<>();
            for (int i = 0; i < M; i++) {
                int r = live.get(i);
                res.toks[r][res.len[r]] = sampler.sample(logits, i * V, sp, rng[r], res.lps[r], res.len[r]);
                if (!res.acceptAndFinish(r, seqs[i].length >= cap[r])) next.add(r);
            }
            live = next;
        }
        res.writeTo(out, p0, n, textDecoder);
    }

    /** Row r of a wave starting at prompt p0 draws from stream (seed, global completion index). */
    static SplittableRandom[] rowRandoms(int p0, int rows, int n, SamplingParams sp) {
        SplittableRandom[] rng = new SplittableRandom[rows];
        for (int r = 0; r < rows; r++) {
            int global = (p0 + r / n) * n + r % n;
            rng[r] = new SplittableRandom(mix(sp.seed(), global));
        }
        return rng;
    }

    /** The ids that end a completion under sp: its stop ids plus EOS unless ignored. */
    private Set<Integer> stopIds(SamplingParams sp) {
        Set<Integer> stopIds = new HashSet<>(sp.stopTokenIds());
        if (!sp.ignoreEos()) stopIds.addAll(eosIds);
        return stopIds;
    }

    /**
     * Prefills prompts [a, b) (left-padded to the longest), writes each prompt's keys/values to cache
     * row (prompt - waveStart)·n and its last-position logits to first[(prompt - waveStart)·V ...].
     */
    private void prefill(List<int[]> prompts, int a, int b, KvCache cache, int n, int waveOffset, float[] first) {
        ModelConfig c = model.config();
        int B = b - a, T = 0, C = c.hiddenSize(), V = c.vocabSize();
        for (int i = a; i < b; i++) T = Math.max(T, prompts.get(i).length);
        int[] ids = new int[B * T], pos = new int[B * T], pad = new int[B];
        byte[] mask = new byte[B * T];
        for (int i = 0; i < B; i++) {
            int[] p = prompts.get(a + i);
            pad[i] = T - p.length;
            for (int t = 0; t < T; t++) {
                boolean real = t >= pad[i];
                ids[i * T + t] = real ? p[t - pad[i]] : 0;
                pos[i * T + t] = real ? t - pad[i] : 0;
                mask[i * T + t] = (byte) (real ? 1 : 0);
            }
        }
        final int TT = T;
        int stride = c.numKvHeads() * c.headDim();
        Tensor hidden = model.forwardHidden(ids, B, T, pos, mask, (layer, k, v, bb, tt) -> {
            for (int i = 0; i < bb; i++) {
                int row = (waveOffset + i) * n, real = TT - pad[i];
                System.arraycopy(k, (i * TT + pad[i]) * stride, cache.k[layer][row], 0, real * stride);
                System.arraycopy(v, (i * TT + pad[i]) * stride, cache.v[layer][row], 0, real * stride);
            }
        });
        for (int i = 0; i < B; i++) cache.length[(waveOffset + i) * n] = T - pad[i];
        // logits of each row's last position only: [B, C] · Wᵀ
        float[] H = hidden.data(), last = new float[B * C];
        for (int i = 0; i < B; i++) System.arraycopy(H, (i * T + T - 1) * C, last, i * C, C);
        Backend be = Backends.current();
        be.gemm(false, true, B, V, C, 1f, last, 0, model.lmHeadWeight().data(), 0, 0f, first, waveOffset * V);
    }

    /** SplitMix64-style mix of (seed, index) into a stream seed. */
    static long mix(long seed, long index) {
        long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
