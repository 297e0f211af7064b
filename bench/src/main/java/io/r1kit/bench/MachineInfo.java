package io.r1kit.bench;

import ai.djl.engine.Engine;
import io.r1kit.model.backend.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import jdk.incubator.vector.FloatVector;

/** What the numbers were measured on. */
final class MachineInfo {
    private MachineInfo() {}

    static Map<String, Object> collect() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("r1kit_threads", Parallel.threads());
        m.put("jdk", System.getProperty("java.vm.name") + " " + Runtime.version());
        m.put("vector_species", FloatVector.SPECIES_PREFERRED.toString());
        m.put("vector_floats", FloatVector.SPECIES_PREFERRED.length());
        m.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
        m.put("libtorch", "PyTorch " + Engine.getEngine("PyTorch").getVersion());
        return m;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }
}
