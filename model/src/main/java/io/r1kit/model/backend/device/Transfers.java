package io.r1kit.model.backend.device;

import java.util.ArrayList;
import java.util.List;

/**
 * Counts every host↔device copy of a {@link DeviceBackend} (count, bytes, and what was copied),
 * so tests can prove that a training step only crosses the PCIe bus at its edges (weights once,
 * ids in, the loss out) and that no op copies its operands behind the caller's back.
 * Thread-safe (a tensor's Cleaner never transfers, but callers may log from several threads).
 */
public final class Transfers {
    public enum Direction { TO_DEVICE, TO_HOST }

    /** One copy: direction, bytes, and the caller's label (e.g. "parameter model.norm.weight", "ids"). */
    public record Transfer(Direction direction, long bytes, String what) {
        @Override
        public String toString() {
            return (direction == Direction.TO_DEVICE ? "h->d " : "d->h ") + bytes + " B " + what;
        }
    }

    private final List<Transfer> log = new ArrayList<>();

    public synchronized void record(Direction d, long bytes, String what) {
        log.add(new Transfer(d, bytes, what));
    }

    /** All transfers since the last {@link #reset()}, in order. */
    public synchronized List<Transfer> log() {
        return List.copyOf(log);
    }

    public synchronized long count(Direction d) {
        return log.stream().filter(t -> t.direction() == d).count();
    }

    public synchronized long bytes(Direction d) {
        return log.stream().filter(t -> t.direction() == d).mapToLong(Transfer::bytes).sum();
    }

    public synchronized void reset() {
        log.clear();
    }

    @Override
    public synchronized String toString() {
        return count(Direction.TO_DEVICE) + " uploads (" + bytes(Direction.TO_DEVICE) + " B), " + count(Direction.TO_HOST)
                + " downloads (" + bytes(Direction.TO_HOST) + " B)";
    }
}
