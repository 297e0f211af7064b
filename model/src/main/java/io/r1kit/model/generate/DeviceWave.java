package io.r1kit.model.generate;

import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One wave of generation with the model on its device: P prompts × n samples = rows.
 *
 * <p>Prefill: the P prompts, left-padded to the longest (T), in one {@link DeviceForward} pass
 * at slot 0; the last position's hidden rows are gathered and go through the lm head, prompt p's
 * cache row and logits are forked to its n sample rows on the device. Then per step, on the
 * device: sample (the host draws each row's uniform from its own stream, as the CPU Sampler
 * would), and the host receives only the sampled ids and log-probs [M]; it decides the stops
 * ({@link WaveRows}), compacts the cache when rows finished, and sends the next step's ids and
 * positions [M]. Transfers per decode step: ids, positions and (when sampling) uniforms in,
 * sampled ids and log-probs out; plus the kept-row index and key mask when rows finished.
 */
final class DeviceWave {
    private final DeviceForward fwd;
    private final DeviceBackend dev;
    private final ModelConfig c;
    private final List<int[]> prompts;
    private final int n;
    private final SamplingParams sp;
    private final SplittableRandom[] rng;   // per row, as the CPU path

    DeviceWave(DeviceForward fwd, List<int[]> prompts, int n, SamplingParams sp, SplittableRandom[] rng) {
        this.fwd = fwd;
        this.dev = fwd.dev;
        this.c = fwd.config();
        this.prompts = prompts;
        this.n = n;
        this.sp = sp;
        this.rng = rng;
    }

    void run(WaveRows res) {
        int P = prompts.size(), rows = P * n, V = c.vocabSize(), T = 0;
        for (int[] p : prompts) T = Math.max(T, p.length);
        int maxT = T + sp.maxNewTokens();   // slots used: T prompt + at most maxNewTokens - 1 fed back
        int[] length = new int[rows], cap = new int[rows];   // real tokens in each row's cache, and its limit
        for (int r = 0; r < rows; r++) {
            length[r] = prompts.get(r / n).length;
            cap[r] = Math.min(length[r] + sp.maxNewTokens(), c.maxPositions());
        }
        try (DeviceKvCache cache = new DeviceKvCache(dev, c, P, maxT, promptMask(T, maxT))) {
            DeviceArray logits = prefill(cache, T);
            int[] live = new int[rows];   // wave row of each device row
            for (int r = 0; r < rows; r++) live[r] = r;
            if (n > 1) logits = select(cache, logits, forkIndex(P), rows, "group fork");
            int M = rows, slot = T;
            int[] tok = new int[rows], keep = new int[rows], nextIds = new int[rows], nextPos = new int[rows];
            float[] lp = new float[rows];
            while (true) {
                sample(logits, M, live, tok, lp);
                logits.close();
                int m = 0;
                for (int i = 0; i < M; i++) {
                    int r = live[i];
                    res.toks[r][res.len[r]] = tok[i];
                    res.lps[r][res.len[r]] = lp[i];
                    if (res.acceptAndFinish(r, length[r] + 1 >= cap[r])) continue;   // + the sampled token, not yet in the cache
                    keep[m] = i;
                    nextIds[m] = tok[i];
                    nextPos[m] = length[r];
                    live[m++] = r;
                }
                if (m == 0) return;
                if (m < M) {   // rows finished: keep the live ones (device gather), before feeding them
                    try (DeviceArray idx = dev.upload(Arrays.copyOf(keep, m), "kept rows (rows finished)")) {
                        cache.select(keep, m, idx, "rows finished");
                    }
                }
                M = m;
                try (DeviceArray ids = dev.upload(Arrays.copyOf(nextIds, M), "decode ids");
                     DeviceArray pos = dev.upload(Arrays.copyOf(nextPos, M), "decode positions");
                     DeviceArray h = fwd.hidden(cache, ids, pos, 1, slot)) {
                    logits = fwd.logits(h, M);
                }
                for (int i = 0; i < M; i++) length[live[i]]++;
                slot++;
            }
        }
    }

    /** [P, maxT]: 0 on prompt p's left padding, 1 from its first real token on (later slots are causal-hidden until written). */
    private byte[] promptMask(int T, int maxT) {
        byte[] m = new byte[prompts.size() * maxT];
        for (int p = 0; p < prompts.size(); p++) {
            int pad = T - prompts.get(p).length;
            for (int t = pad; t < maxT; t++) m[p * maxT + t] = 1;
        }
        return m;
    }

    /** Prefills the prompts at slot 0 and returns the logits of each prompt's last position F32 [P, V]. */
    private DeviceArray prefill(DeviceKvCache cache, int T) {
        int P = prompts.size();
        int[] ids = new int[P * T], pos = new int[P * T], last = new int[P];
        for (int p = 0; p < P; p++) {
            int[] pr = prompts.get(p);
            int pad = T - pr.length;
            for (int t = pad; t < T; t++) {
                ids[p * T + t] = pr[t - pad];
                pos[p * T + t] = t - pad;
            }
            last[p] = p * T + T - 1;
        }
        int C = c.hiddenSize();
        try (DeviceArray dIds = dev.upload(ids, "prefill ids");
             DeviceArray dPos = dev.upload(pos, "prefill positions");
             DeviceArray h = fwd.hidden(cache, dIds, dPos, T, 0);
             DeviceArray dLast = dev.upload(last, "prefill last positions");
             DeviceArray hLast = dev.alloc(ElementType.F32, (long) P * C)) {
            dev.kvGather(hLast, h, dLast, P, C);   // [P, C]: row p = h[p, T-1]
            return fwd.logits(hLast, P);
        }
    }

    /** Row r of the wave samples prompt r / n. */
    private int[] forkIndex(int P) {
        int[] idx = new int[P * n];
        for (int r = 0; r < idx.length; r++) idx[r] = r / n;
        return idx;
    }

    /** Keeps rows keep[0, m) of the cache and of logits [*, V] (closes the old logits). */
    private DeviceArray select(DeviceKvCache cache, DeviceArray logits, int[] keep, int m, String why) {
        int V = c.vocabSize();
        try (DeviceArray idx = dev.upload(keep, "kept rows (" + why + ")")) {
            cache.select(keep, m, idx, why);
            DeviceArray out = dev.alloc(ElementType.F32, (long) m * V);
            dev.kvGather(out, logits, idx, m, V);
            logits.close();
            return out;
        }
    }

    /** tok, lp [M] = the device sampler over logits [M, V] (device row i is wave row live[i]); the only per-step device→host copies. */
    private void sample(DeviceArray logits, int M, int[] live, int[] tok, float[] lp) {
        try (DeviceArray uniforms = dev.alloc(ElementType.F32, M);
             DeviceArray dTok = dev.alloc(ElementType.I32, M);
             DeviceArray dLp = dev.alloc(ElementType.F32, M)) {
            if (!sp.greedy()) dev.write(uniforms, 0, uniforms(M, live), 0, M, "sampling uniforms");
            dev.sample(dTok, dLp, logits, uniforms, M, c.vocabSize(), sp.temperature(), sp.topK(), sp.topP(), sp.minP(),
                    sp.logprobMode().ordinal());
            dev.readInts(dTok, tok, M, "sampled ids");
            dev.read(dLp, 0, lp, 0, M, "sampled log-probs");
        }
    }

    /**
     * One draw per live row from its own stream: exactly the CPU Sampler's rng.nextDouble(),
     * rounded to float (the kernel's input), kept below 1.
     */
    private float[] uniforms(int M, int[] live) {
        float[] u = new float[M];
        for (int i = 0; i < M; i++) u[i] = Math.min((float) rng[live[i]].nextDouble(), 0x1.fffffep-1f);
        return u;
    }
}
