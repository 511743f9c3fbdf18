package netslim.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Parallel loops on the process's one set of daemon worker threads, together with the calling thread. Every pool
 * (one per CPU backend) and the GEMM's parts ({@link #runParts}) share the same workers — a pool is a limit on how
 * many of them a loop uses — so the engine never has more runnable threads than the largest pool asks for (two
 * pools of their own, each polling for work, would be three threads on two cores). Work is handed out in chunks
 * from a shared counter, so a participant that starts late (the machine is busy) just takes fewer chunks; the
 * caller waits until every chunk has completed, not until every helper has woken up, and can always finish a loop
 * alone. A loop started from inside a worker runs serially (no nested parallelism, no deadlock).
 */
final class WorkerPool implements AutoCloseable {

    /** The body of a parallel loop: processes indices [start, end). */
    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    private final int threads;
    private volatile boolean closed;

    /** The shared workers, grown on demand (never shrunk: daemons, parked when idle). */
    private static volatile Worker[] shared = new Worker[0];

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        workers(threads - 1);
    }

    /** At least {@code count} shared workers. */
    private static Worker[] workers(int count) {
        Worker[] w = shared;
        return w.length >= count ? w : grow(count);
    }

    private static synchronized Worker[] grow(int count) {
        Worker[] w = shared;
        if (w.length >= count) return w;
        Worker[] grown = java.util.Arrays.copyOf(w, count);
        for (int i = w.length; i < count; i++) {
            grown[i] = new Worker("netslim-cpu-" + i);
            grown[i].start();
        }
        shared = grown;
        return grown;
    }

    /**
     * Runs {@code body.accept(p)} for p in [0, parts) on up to {@code parts} threads (the caller's included), each
     * part once; serially when called from a worker. Rethrows the first failure.
     */
    static void runParts(int parts, java.util.function.IntConsumer body) {
        runParts(parts, body, true);
    }

    /**
     * Runs {@code body.accept(p)} for p in [0, parts), each part on a shared worker of its own while the caller waits
     * (parked): every parallel loop and GEMM the parts start runs serially on that worker, so {@code parts} threads
     * each run whole single-threaded work (a serving plan's images, {@link CpuBackend#runLanes}). A part whose worker
     * is busy (another caller's loop) is taken by whichever worker finishes first. Serially on the calling thread when
     * {@code parts <= 1} or when called from a worker. Rethrows the first failure.
     */
    static void runOnWorkers(int parts, java.util.function.IntConsumer body) {
        runParts(parts, body, false);
    }

    /** {@link #runParts} when the caller works on the parts too, else {@link #runOnWorkers}. */
    private static void runParts(int parts, java.util.function.IntConsumer body, boolean callerWorks) {
        RangeBody range = (start, end) -> {
            for (int p = start; p < end; p++) body.accept(p);
        };
        if (parts <= 1 || Thread.currentThread() instanceof Worker) {
            range.run(0, parts);
            return;
        }
        Loop loop = new Loop(parts, parts, range, Thread.currentThread());
        if (callerWorks) {
            run(loop, workers(parts - 1), parts - 1);
            return;
        }
        Worker[] w = workers(parts);
        for (int i = 0; i < parts; i++) w[i].offer(loop);
        loop.awaitDone(LANE_PARK_NANOS);
    }

    /**
     * How long a caller of {@link #runOnWorkers} parks between checks: the last part's unpark wakes it anyway; a
     * shorter period (that of {@link Loop#awaitDone()}) would take ~2,000 wake-ups of a core per 100 ms of work.
     */
    private static final long LANE_PARK_NANOS = 1_000_000L;

    /**
     * Where range p of {@code parts} contiguous, balanced ranges of [0, units) starts (range p is [split(p),
     * split(p + 1)); sizes differ by at most one).
     */
    static int split(int units, int parts, int p) {
        return (int) ((long) units * p / parts);
    }

    private static void run(Loop loop, Worker[] workers, int helpers) {
        for (int i = 0; i < helpers; i++) workers[i].offer(loop);
        loop.work();
        loop.awaitDone();
    }

    int threads() {
        return threads;
    }

    /**
     * Threads a loop started now from this thread runs on: 1 on a worker (a lane of {@link #runOnWorkers}, or a
     * loop inside another loop) and after {@link #close}, else {@link #threads}.
     */
    int threadsHere() {
        return closed || Thread.currentThread() instanceof Worker ? 1 : threads;
    }

    /** Whether {@link #close} has been called (loops run on the caller alone). */
    boolean closed() {
        return closed;
    }

    /**
     * Runs {@code body} over [0, n) split into chunks of at least {@code grain} indices, on up to {@code threads}
     * threads (the caller included). Returns when every index has been processed; rethrows the first failure.
     */
    void parallelFor(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunkSize = Math.max(1, grain);
        int chunks = (int) Math.min(((long) n + chunkSize - 1) / chunkSize, 4L * threads);
        if (chunks <= 1 || threads == 1 || closed || Thread.currentThread() instanceof Worker) {
            body.run(0, n);
            return;
        }
        run(new Loop(n, chunks, body, Thread.currentThread()), workers(threads - 1), Math.min(threads, chunks) - 1);
    }

    /** Later loops run on the calling thread alone (the shared workers stay, parked, for other pools). */
    @Override
    public void close() {
        closed = true;
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
                int start = split(n, chunks, c), end = split(n, chunks, c + 1);
                try {
                    if (failure.get() == null) body.run(start, end);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                if (done.incrementAndGet() == chunks) LockSupport.unpark(caller);
            }
        }

        void awaitDone() {
            awaitDone(50_000);
        }

        /** Spins briefly (chunks usually finish within microseconds of each other), then parks {@code park} ns. */
        void awaitDone(long park) {
            for (int spins = 0; done.get() < chunks; spins++) {
                if (spins < 2000) waitABit(spins);
                else LockSupport.parkNanos(this, park);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    /**
     * How long an idle worker keeps polling for the next loop before it parks (-Dnetslim.cpu.spinMicros, default 0:
     * park at once). A parked worker takes a futex wake-up (tens of microseconds on this VM) to join each loop, a
     * polling one a few hundred nanoseconds, as ONNX Runtime's and OpenMP's pools do; polling measured 3–5 % faster on
     * compressed models at batch 1 and nothing on dense ones, but it takes a core from every other runnable thread
     * (the JIT, the GC, the application embedding the engine): in {@code netslim demo}'s report, timed in the process
     * that had just trained and fine-tuned, 200 µs of polling made the baseline 6.9 ms instead of 3.9
     * (bench/RESULTS.md, session 6). So it is opt-in, for machines whose cores are the engine's alone.
     */
    static final long SPIN_NANOS = 1000L * Long.getLong("netslim.cpu.spinMicros", 0L);

    /**
     * Passes in flight ({@link CpuBackend#pass}: an executor's forward or backward). While exactly one is, an idle
     * worker polls for the next loop instead of parking — the ops of a pass come back to back, so a parked worker
     * would cost a futex wake-up (~8.5 µs measured on the AVX-512 Xeon of session 7) on every op — for at most
     * {@link #PASS_SPIN_NANOS} of idleness; when the pass ends the workers park. Unlike spinMicros this takes no core
     * from other threads between passes; with several passes at once (an embedding service's callers) the cores are
     * the callers' and nobody polls. {@code -Dnetslim.cpu.passSpin=false} turns it off.
     */
    private static final AtomicInteger PASSES = new AtomicInteger();
    static final boolean PASS_SPIN = !"false".equals(System.getProperty("netslim.cpu.passSpin"));
    /** A pass's serial stretch longer than this (e.g. a big single-threaded op) parks the workers anyway. */
    static final long PASS_SPIN_NANOS = 2_000_000L;

    /** Opens a pass (see {@link #PASSES}). */
    static void beginPass() {
        PASSES.incrementAndGet();
    }

    /** Closes a pass opened by {@link #beginPass}. */
    static void endPass() {
        PASSES.decrementAndGet();
    }

    /** Passes open now (tests). */
    static int passes() {
        return PASSES.get();
    }

    /** Whether an idle worker, idle for {@code idle} ns, keeps polling. */
    private static boolean keepPolling(long idle) {
        return idle < SPIN_NANOS || (idle < PASS_SPIN_NANOS && PASSES.get() == 1);
    }

    /**
     * One turn of a busy wait: a spin-wait hint, and every {@link #YIELD_EVERY}th turn a {@link Thread#yield}, which
     * returns at once on a core of its own but hands the core over where another runnable thread shares it — the
     * thread being waited for, when the machine's other cores are busy (another process, the application's own
     * threads) and the scheduler has put both of ours on one core, where a pure spin would burn what that thread
     * needs until the spin ends. -Dnetslim.cpu.yieldWhileWaiting=false: the spin-wait hint only.
     */
    static void waitABit(int turn) {
        if (YIELD && yieldsAt(turn)) Thread.yield();
        else Thread.onSpinWait();
    }

    /** Whether turn {@code turn} of a wait yields: every {@link #YIELD_EVERY}th, by a mask (so a wrapped count too). */
    static boolean yieldsAt(int turn) {
        return (turn & (YIELD_EVERY - 1)) == YIELD_EVERY - 1;
    }

    /** See {@link #waitABit}. Not final: probes flip it. */
    static boolean YIELD = !"false".equals(System.getProperty("netslim.cpu.yieldWhileWaiting"));
    /**
     * GoogLeNet batch 1 with a busy loop pinned to the other core, passes alternated in one JVM: 1.49x, 1.50x and 1.44x
     * faster than without yields for a yield every 1, 4 and 32 turns; with the core free, equal (bench/RESULTS.md,
     * session 18). A power of two.
     */
    static final int YIELD_EVERY = 4;

    /** A daemon thread that runs the loops offered to it, in order; polls while {@link #keepPolling}, then parks. */
    private static final class Worker extends Thread {
        private final java.util.concurrent.ConcurrentLinkedQueue<Loop> queue =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        private volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void offer(Loop loop) {
            queue.add(loop);
            if (parked) LockSupport.unpark(this); // the worker re-checks the queue after raising the flag
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            int polls = 0;
            while (true) { // shared by every pool for the life of the process (a daemon): never exits
                if (Thread.interrupted()) continue; // nothing stops a worker; an interrupt must not make park spin
                Loop loop = queue.poll();
                if (loop != null) {
                    loop.work();
                    idleSince = System.nanoTime();
                } else if (keepPolling(System.nanoTime() - idleSince)) {
                    waitABit(++polls);
                } else {
                    parked = true;
                    if (queue.isEmpty()) LockSupport.park(this);
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
