package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Example;
import io.r1kit.grpo.rejection.RejectionConfig;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What travels to the executors comes back equal: the sampling options and the prompts, with their columns' Java types. */
class SamplingChunkTaskTest {

    @Test
    void samplingOptionsSurviveTheirJsonForm() throws Exception {
        RejectionConfig rc = RejectionConfig.defaults().with(Map.of("samples_per_prompt", 3, "temperature", 0.7, "judge", "none",
                "max_per_prompt", 2, "seed", 11L, "prompt_batch_size", 5));
        assertEquals(rc, SamplingChunkTask.readSampling(SamplingChunkTask.writeSampling(rc)));
        assertEquals(RejectionConfig.defaults(), SamplingChunkTask.readSampling(SamplingChunkTask.writeSampling(RejectionConfig.defaults())));
    }

    @Test
    void promptsTravelWithTheirColumnTypes() throws Exception {
        Map<String, Object> cols = new LinkedHashMap<>();
        cols.put("prompt", "2+2?");
        cols.put("answer", 4);
        cols.put("big", 5_000_000_000L);
        cols.put("score", 0.1 + 0.2);
        cols.put("nums", List.of(1, 2, 3));
        Example e = new Example("p7", cols);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(SamplingChunkTask.ShippedExample.of(e));
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            Example back = ((SamplingChunkTask.ShippedExample) in.readObject()).example();
            assertEquals(e, back);
            assertEquals(Integer.class, back.get("answer").getClass());
            assertEquals(Long.class, back.get("big").getClass());
            assertEquals(List.copyOf(cols.keySet()), List.copyOf(back.columns().keySet()));
        }
    }
}
