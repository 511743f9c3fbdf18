package netslim.backend.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The one shared pool of daemon worker threads the Java GEMM runs its parts on, so that no call creates threads.
 * The calling thread always runs part 0 itself and the pool the others; workers never wait on each other, so
 * concurrent callers cannot deadlock. The pool grows to the largest part count any caller asked for.
 */
final class GemmWorkers {
    private static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), GemmWorkers::newWorker);
    private static final AtomicInteger WORKER_IDS = new AtomicInteger();

    private GemmWorkers() {
    }

    private static Thread newWorker(Runnable r) {
        Thread t = new Thread(r, "netslim-gemm-" + WORKER_IDS.incrementAndGet());
        t.setDaemon(true);
        return t;
    }

    /** Runs {@code body.accept(p)} for p in [0, parts), part 0 on the calling thread; rethrows the first failure. */
    static void run(int parts, IntConsumer body) {
        if (parts <= 1) {
            body.accept(0);
            return;
        }
        ensureWorkers(parts - 1);
        CountDownLatch done = new CountDownLatch(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < parts; p++) {
            int part = p;
            POOL.execute(() -> {
                try {
                    body.accept(part);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            body.accept(0);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        awaitUninterruptibly(done);
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        } else if (t instanceof Error e) {
            throw e;
        } else if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    private static synchronized void ensureWorkers(int n) {
        // Core threads stay alive between calls (workers are daemons, so they never block JVM exit).
        if (POOL.getCorePoolSize() < n) {
            POOL.setCorePoolSize(n);
            POOL.prestartAllCoreThreads();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Splits {@code units} into {@code parts} contiguous, balanced ranges; returns the start of range p. */
    static int split(int units, int parts, int p) {
        return (int) ((long) units * p / parts);
    }
}
