package netslim.api;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

import netslim.backend.Backend;
import netslim.nn.Executor;
import netslim.nn.Graph;

/**
 * Idle inference executors of one model, per batch size, borrowed for one forward pass and given back. An
 * {@link Executor} is not thread-safe (it owns its activation buffers), so each call has one to itself; the pool
 * grows to the largest number of concurrent calls seen at a batch size and keeps them (memory: that many activation
 * plans). Lock-free: concurrent deques, no lock on the hot path. All executors read the one graph's weights.
 *
 * <p>Backends: a shared one (the CPU backend is thread-safe: per-thread scratch, callers join its worker pool) or,
 * when {@code shared} is null, one backend of {@code perExecutor} per executor (the CUDA backend is not
 * thread-safe: each executor gets its own stream, cuBLAS handle and device copy of the weights).
 */
final class ExecutorPool implements AutoCloseable {
    /** An executor and the backend it owns (null when it runs on the shared one). */
    record Slot(Executor executor, Backend ownBackend) {
        void close() {
            executor.close();
            if (ownBackend != null) ownBackend.close();
        }
    }

    private final Graph graph;
    private final Backend shared;
    private final Supplier<Backend> perExecutor;
    private final Map<Integer, ConcurrentLinkedDeque<Slot>> idle = new ConcurrentHashMap<>();
    private final Queue<Slot> all = new ConcurrentLinkedQueue<>();

    ExecutorPool(Graph graph, Backend shared, Supplier<Backend> perExecutor) {
        this.graph = graph; // NetslimModel folds BatchNorm once (Options.foldBatchNorm) before it gets here
        this.shared = shared;
        this.perExecutor = perExecutor;
    }

    /** An idle executor for {@code batch}, or a newly planned one. */
    Slot borrow(int batch) {
        Slot s = idleAt(batch).pollFirst();
        return s != null ? s : create(batch);
    }

    /** Gives a borrowed executor back (most recently used first, so its buffers are likely still in cache). */
    void release(Slot s) {
        idleAt(s.executor().batch()).offerFirst(s);
    }

    private ConcurrentLinkedDeque<Slot> idleAt(int batch) {
        return idle.computeIfAbsent(batch, b -> new ConcurrentLinkedDeque<>());
    }

    /** A new executor for {@code batch}; its own backend too when there is no shared one. */
    Slot create(int batch) {
        Backend own = shared == null ? perExecutor.get() : null;
        try {
            Slot s = new Slot(new Executor(graph, own != null ? own : shared, batch, Executor.Mode.FUSED_INFERENCE), own);
            all.add(s);
            return s;
        } catch (RuntimeException | Error e) {
            if (own != null) own.close();
            throw e;
        }
    }

    /** Executors planned so far, over all batch sizes (for tests and diagnostics). */
    int size() {
        return all.size();
    }

    /** Closes every executor and every backend; only when no call is in flight. */
    @Override
    public void close() {
        for (Slot s; (s = all.poll()) != null; ) s.close();
        idle.clear();
        if (shared != null) shared.close();
    }
}
