package netslim.backend.cpu;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon worker threads, created once, that run parallel loops together with the calling thread.
 * Work is handed out in chunks from a shared counter, so a participant that starts late (the machine is busy) just
 * takes fewer chunks; the caller waits until every chunk has completed, not until every helper has woken up.
 * A loop started from inside a worker runs serially (no nested parallelism, no deadlock).
 */
final class WorkerPool implements AutoCloseable {

    /** The body of a parallel loop: processes indices [start, end). */
    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;
    private final Worker[] workers;
    private volatile boolean closed;

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("netslim-cpu-" + i);
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) split into chunks of at least {@code grain} indices, on up to {@code threads}
     * threads (the caller included). Returns when every index has been processed; rethrows the first failure.
     */
    void parallelFor(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunkSize = Math.max(1, grain);
        int chunks = (int) Math.min(((long) n + chunkSize - 1) / chunkSize, 4L * threads);
        if (chunks <= 1 || workers.length == 0 || closed || Thread.currentThread() instanceof Worker) {
            body.run(0, n);
            return;
        }
        Loop loop = new Loop(n, chunks, body, Thread.currentThread());
        int helpers = Math.min(workers.length, chunks - 1);
        for (int i = 0; i < helpers; i++) workers[i].offer(loop);
        loop.work();
        loop.awaitDone();
    }

    /** Stops the workers; later loops run on the calling thread alone. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) w.interrupt();
    }

    /** One parallel loop in flight: chunks are claimed from {@code next} and counted into {@code done}. */
    private static final class Loop {
        final int n;
        final int chunks;
        final RangeBody body;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Loop(int n, int chunks, RangeBody body, Thread caller) {
            this.n = n;
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                // Chunk c covers [c*n/chunks, (c+1)*n/chunks): sizes differ by at most one index.
                int start = (int) ((long) c * n / chunks);
                int end = (int) ((long) (c + 1) * n / chunks);
                try {
                    if (failure.get() == null) body.run(start, end);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                if (done.incrementAndGet() == chunks) LockSupport.unpark(caller);
            }
        }

        void awaitDone() {
            // Spin briefly (chunks usually finish within microseconds of each other), then park.
            for (int spins = 0; done.get() < chunks; spins++) {
                if (spins < 2000) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    /** A daemon thread that runs the loops offered to it, in order. */
    private static final class Worker extends Thread {
        private final LinkedBlockingQueue<Loop> queue = new LinkedBlockingQueue<>();

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void offer(Loop loop) {
            queue.add(loop);
        }

        @Override
        public void run() {
            try {
                while (true) queue.take().work();
            } catch (InterruptedException e) {
                // close(): exit quietly
            }
        }
    }
}
