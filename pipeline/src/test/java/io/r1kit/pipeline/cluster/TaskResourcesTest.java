package io.r1kit.pipeline.cluster;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The device an executor task's worker selects from the GPU the engine assigned it. */
class TaskResourcesTest {

    @Test
    void anAssignedGpuDecidesTheCudaDeviceAndLeavesCpuAlone() throws Exception {
        assertEquals("auto", TaskResources.device("auto"), "no task, no assignment");
        String[] seen = TaskResources.withGpu("3", () -> new String[] {TaskResources.gpu(), TaskResources.device("auto"),
                TaskResources.device("cuda"), TaskResources.device("cuda:1"), TaskResources.device(null), TaskResources.device("cpu"),
                TaskResources.device("emulated")});
        assertEquals("3", seen[0]);
        assertEquals("cuda:3", seen[1]);
        assertEquals("cuda:3", seen[2]);
        assertEquals("cuda:3", seen[3], "on a cluster the assignment decides which GPU");
        assertEquals("cuda:3", seen[4], "an unset device means auto");
        assertEquals("cpu", seen[5]);
        assertEquals("emulated", seen[6]);
        assertNull(TaskResources.gpu(), "cleared after the task");
    }

    @Test
    void nestedAndFailingTasksRestoreTheThreadsAssignment() throws Exception {
        String inner = TaskResources.withGpu("1", () -> TaskResources.withGpu(null, () -> TaskResources.device("cuda")));
        assertEquals("cuda", inner, "a task without a GPU inside one with a GPU sees none");
        assertThrows(IllegalStateException.class, () -> TaskResources.withGpu("2", () -> {
            throw new IllegalStateException("task failed");
        }));
        assertNull(TaskResources.gpu(), "a failed task leaves nothing behind");
    }
}
