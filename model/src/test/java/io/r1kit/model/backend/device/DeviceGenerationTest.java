package io.r1kit.model.backend.device;

import io.r1kit.model.arch.ArchTestSupport;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.generate.Completion;
import io.r1kit.model.generate.FinishReason;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.LogprobMode;
import io.r1kit.model.generate.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batched KV-cache generation with the model on an {@link EmulatedDevice} against the same
 * generation on the CPU, for a ragged batch of prompts (lengths 3, 7, 5), the three families,
 * greedy and seeded sampling (temperature + top-k + top-p, n = 2 samples per prompt), with and
 * without rows finishing early on a stop id.
 *
 * <p>Tolerance: tokens must be identical. Log-probs within 1e-5 absolute (observed: at most 7e-7,
 * from the second decode step on; the prefill's and the first step's are bit-equal): the device
 * cache keeps rows aligned (left padding, every row writes the same slot, the padding masked)
 * while the CPU cache keeps each row's keys from slot 0 unmasked, so the attention kernel sees the
 * same keys in different key blocks / through its masked-block path and its online softmax
 * rounds differently (a few ulp of the attention output). The device gets the uniforms as float
 * (the kernel's input) while the CPU Sampler uses the double: a different token only if a
 * cumulative-probability boundary falls within 6e-8 of the draw (not the case for these seeds).
 *
 * <p>Transfers are checked exactly, copy by copy: after the Generator uploads the RoPE tables,
 * a request uploads only its key mask and prefill ids / positions / last-position index (plus the
 * fork index and mask for n > 1), and each decode step only its uniforms (when sampling) in, the
 * sampled ids and log-probs out, the next ids and positions in, and, on a step where rows finished,
 * the kept-row index and their key mask. No logits, no weights, no per-op copies.
 */
class DeviceGenerationTest {
    static final List<int[]> PROMPTS = List.of(new int[]{5, 9, 2}, new int[]{1, 4, 8, 3, 7, 7, 2}, new int[]{6, 3, 11, 2, 9});
    static final int MAX_NEW = 6;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String fam : List.of("llama3", "qwen2Tied", "qwen3")) {
            out.add(Arguments.of(fam, "greedy", 1, false));
            out.add(Arguments.of(fam, "greedy", 1, true));
            out.add(Arguments.of(fam, "sampled", 2, false));
            out.add(Arguments.of(fam, "sampled", 2, true));
        }
        return out.stream();
    }

    static ModelConfig config(String family) {
        return switch (family) {
            case "llama3" -> ArchTestSupport.llama3();
            case "qwen2Tied" -> ArchTestSupport.qwen2Tied();
            default -> ArchTestSupport.qwen3();
        };
    }

    static SamplingParams params(String mode) {
        SamplingParams p = mode.equals("greedy") ? SamplingParams.greedy(MAX_NEW)
                : SamplingParams.sample(0.8f, MAX_NEW, 7).withTopK(20).withTopP(0.9f);
        return p.withIgnoreEos(true);
    }

    @ParameterizedTest(name = "{0} {1} n={2} stop={3}")
    @MethodSource("cases")
    void deviceGenerationMatchesCpuAndCopiesOnlyIdsAndLogprobs(String family, String mode, int n, boolean stopEarly) {
        CausalLM cpu = CausalLM.random(config(family), 21);
        ArchTestSupport.perturb(cpu, 22);
        CausalLM dev = cpu.copy();
        EmulatedDevice emu = new EmulatedDevice();
        dev.moveTo(emu);
        SamplingParams sp = params(mode);
        List<Completion> want = new Generator(cpu).generate(PROMPTS, n, sp);
        if (stopEarly) {   // a token the first completion produced mid-way: some rows stop before the others
            sp = sp.withStopTokenIds(Set.of(want.get(0).tokens()[2]));
            want = new Generator(cpu).generate(PROMPTS, n, sp);
            assertTrue(want.stream().anyMatch(c -> c.finishReason() == FinishReason.STOP), "a row stops early");
        }
        emu.transfers().reset();
        Generator g = new Generator(dev);
        assertEquals(List.of("h->d " + 4 * cpu.ropeTables().cos().length + " B rope cos table",
                "h->d " + 4 * cpu.ropeTables().sin().length + " B rope sin table"), strings(emu.transfers()));
        emu.transfers().reset();
        List<Completion> got = g.generate(PROMPTS, n, sp);

        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            Completion w = want.get(i), d = got.get(i);
            String what = family + " " + mode + " completion " + i;
            assertArrayEquals(w.tokens(), d.tokens(), what + " tokens");
            assertEquals(w.finishReason(), d.finishReason(), what + " finish");
            assertEquals(w.stopReason(), d.stopReason(), what + " stop reason");
            for (int t = 0; t < w.tokens().length; t++)
                assertEquals(w.logprobs()[t], d.logprobs()[t], 1e-5f, what + " logprob " + t);
        }
        assertEquals(expectedTransfers(got, n, sp), strings(emu.transfers()));
    }

    /** The exact copy log of one request, derived from how long each completion ran. */
    private static List<String> expectedTransfers(List<Completion> got, int n, SamplingParams sp) {
        int P = PROMPTS.size(), rows = P * n, T = 0;
        for (int[] p : PROMPTS) T = Math.max(T, p.length);
        int maxT = T + sp.maxNewTokens();
        List<String> log = new ArrayList<>();
        log.add("h->d " + P * maxT + " B key mask");
        log.add("h->d " + 4 * P * T + " B prefill ids");
        log.add("h->d " + 4 * P * T + " B prefill positions");
        log.add("h->d " + 4 * P + " B prefill last positions");
        if (n > 1) {
            log.add("h->d " + 4 * rows + " B kept rows (group fork)");
            log.add("h->d " + rows * maxT + " B key mask (group fork)");
        }
        for (int s = 0; ; s++) {
            final int step = s;
            int M = (int) got.stream().filter(c -> c.length() > step).count();
            int m = (int) got.stream().filter(c -> c.length() > step + 1).count();
            if (!sp.greedy()) log.add("h->d " + 4 * M + " B sampling uniforms");
            log.add("d->h " + 4 * M + " B sampled ids");
            log.add("d->h " + 4 * M + " B sampled log-probs");
            if (m == 0) return log;
            if (m < M) {
                log.add("h->d " + 4 * m + " B kept rows (rows finished)");
                log.add("h->d " + m * maxT + " B key mask (rows finished)");
            }
            log.add("h->d " + 4 * m + " B decode ids");
            log.add("h->d " + 4 * m + " B decode positions");
        }
    }

    private static List<String> strings(Transfers t) {
        return t.log().stream().map(Transfers.Transfer::toString).toList();
    }

    @Test
    void logprobModesMatchCpu() {
        CausalLM cpu = CausalLM.random(ArchTestSupport.llama3(), 31);
        ArchTestSupport.perturb(cpu, 32);
        CausalLM dev = cpu.copy().moveTo(new EmulatedDevice());
        for (LogprobMode mode : LogprobMode.values()) {
            SamplingParams sp = SamplingParams.sample(1.3f, 4, 3).withMinP(0.05f).withLogprobMode(mode).withIgnoreEos(true);
            List<Completion> want = new Generator(cpu).generate(PROMPTS, sp), got = new Generator(dev).generate(PROMPTS, sp);
            for (int i = 0; i < want.size(); i++) {
                assertArrayEquals(want.get(i).tokens(), got.get(i).tokens(), mode + " tokens " + i);
                assertArrayEquals(want.get(i).logprobs(), got.get(i).logprobs(), 1e-5f, mode + " logprobs " + i);
            }
        }
    }

    /** Stop strings (decoded on the host from the sampled ids) and several waves (maxBatchRows < rows). */
    @Test
    void stopStringsAndWavesMatchCpu() {
        CausalLM cpu = CausalLM.random(ArchTestSupport.qwen2Tied(), 51);
        ArchTestSupport.perturb(cpu, 52);
        CausalLM dev = cpu.copy().moveTo(new EmulatedDevice());
        java.util.function.IntFunction<String> text = id -> String.valueOf((char) ('a' + id % 26));
        SamplingParams sp = SamplingParams.sample(0.9f, 8, 5).withTopP(0.95f).withIgnoreEos(true);
        List<Completion> first = new Generator(cpu, text).generate(PROMPTS, 2, sp);
        Completion c0 = first.get(1);
        String stop = text.apply(c0.tokens()[2]) + text.apply(c0.tokens()[3]);   // two pieces the second completion produced
        sp = sp.withStopStrings(List.of(stop));
        List<Completion> want = new Generator(cpu, text).generate(PROMPTS, 2, sp);
        List<Completion> got = new Generator(dev, text).maxBatchRows(2).generate(PROMPTS, 2, sp);   // one prompt per wave
        assertTrue(want.stream().anyMatch(c -> stop.equals(c.stopReason())), "a stop string ends a row");
        for (int i = 0; i < want.size(); i++) {
            assertArrayEquals(want.get(i).tokens(), got.get(i).tokens(), "tokens " + i);
            assertEquals(want.get(i).stopReason(), got.get(i).stopReason(), "stop reason " + i);
            assertEquals(want.get(i).text(), got.get(i).text(), "text " + i);
            assertArrayEquals(want.get(i).logprobs(), got.get(i).logprobs(), 1e-5f, "logprobs " + i);
        }
    }

    @Test
    void aModelSplitAcrossHostAndDeviceIsRefused() {
        CausalLM m = CausalLM.random(ArchTestSupport.llama3(), 41);
        m.moveTo(new EmulatedDevice());
        m.finalNorm().moveToHost();
        assertThrows(IllegalArgumentException.class, () -> new Generator(m));
    }

    @Test
    void aModelMovedAfterTheGeneratorWasMadeIsRefused() {
        CausalLM m = CausalLM.random(ArchTestSupport.llama3(), 42);
        Generator onHost = new Generator(m);
        m.moveTo(new EmulatedDevice());
        assertThrows(IllegalStateException.class, () -> onHost.generate(PROMPTS, SamplingParams.greedy(2)));
        Generator onDevice = new Generator(m);
        m.moveToHost();
        assertThrows(IllegalStateException.class, () -> onDevice.generate(PROMPTS, SamplingParams.greedy(2)));
    }
}
