package io.r1kit.pipeline.cluster;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/** A model checkpoint as an executor reaches it: {@link #localDir()} is a directory {@code CausalLM.load} reads. */
public interface ModelShipment extends Serializable {

    /** The checkpoint directory on the executor that calls it (a broadcast one is written to local disk once per JVM). */
    Path localDir() throws IOException;

    /** Bytes of the checkpoint's files. */
    long bytes();

    /** {@code broadcast} or {@code path}, for the log. */
    String how();

    /**
     * On an executor, once no task of this JVM will read {@link #localDir()} again: deletes a local copy
     * made for it (a broadcast's files). A shared path is left alone.
     */
    default void releaseLocal() throws IOException {}

    /** On the driver, once no task will read this shipment again: frees what the engine holds for it. */
    default void release() {}
}
