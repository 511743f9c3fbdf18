package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WorkerPoolTest {

    /** Every index is visited exactly once, whatever the split. */
    @ParameterizedTest
    @CsvSource({"1, 1000, 7", "3, 1000, 7", "3, 5, 1", "4, 100003, 1000", "2, 1, 1"})
    void visitsEachIndexOnce(int threads, int n, int grain) {
        try (WorkerPool pool = new WorkerPool(threads)) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            pool.parallelFor(n, grain, (s, e) -> {
                for (int i = s; i < e; i++) seen.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i);
        }
    }

    /**
     * With yields in the busy waits and without, and with two busy threads competing for the cores (what the yields are
     * for), many short loops and GEMM splits each visit every index exactly once and return (a wait that never saw
     * its loop end would hang: the timeout fails it).
     */
    @ParameterizedTest(name = "yield {0}")
    @CsvSource({"true", "false"})
    void loopsCompleteWithBusyThreadsCompeting(boolean yield) {
        boolean was = WorkerPool.YIELD;
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread[] hogs = new Thread[2];
        for (int h = 0; h < hogs.length; h++) {
            hogs[h] = new Thread(() -> {
                long x = 0;
                while (!stop.get()) x += System.nanoTime() & 1; // a busy thread, as another process would be
                if (x == 42) System.out.print("");
            });
            hogs[h].setDaemon(true);
            hogs[h].start();
        }
        WorkerPool.YIELD = yield;
        try (WorkerPool pool = new WorkerPool(2)) {
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
                for (int round = 0; round < 300; round++) {
                    int n = 64 + round;
                    AtomicIntegerArray seen = new AtomicIntegerArray(n);
                    pool.parallelFor(n, 1, (a, b) -> {
                        for (int i = a; i < b; i++) seen.incrementAndGet(i);
                    });
                    AtomicIntegerArray parts = new AtomicIntegerArray(2);
                    WorkerPool.runParts(2, parts::incrementAndGet);
                    for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "round " + round + ", index " + i);
                    assertEquals(1, parts.get(0), "round " + round + ", part 0");
                    assertEquals(1, parts.get(1), "round " + round + ", part 1");
                }
            });
        } finally {
            WorkerPool.YIELD = was;
            stop.set(true);
        }
    }

    /** The yield cadence is a power of two, so a worker's wrapped poll count keeps yielding every that many turns. */
    @Test
    void yieldCadenceSurvivesAWrappedCount() {
        assertEquals(0, Integer.bitCount(WorkerPool.YIELD_EVERY) - 1, "YIELD_EVERY " + WorkerPool.YIELD_EVERY);
        int yields = 0;
        for (int turn = Integer.MAX_VALUE - 15, i = 0; i < 32; turn++, i++) {
            if (WorkerPool.yieldsAt(turn)) yields++;
        }
        assertEquals(32 / WorkerPool.YIELD_EVERY, yields, "yields over 32 turns across the wrap");
    }

    @Test
    void rethrowsTheBodysFailure() {
        try (WorkerPool pool = new WorkerPool(3)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(100, 1, (s, end) -> {
                if (s <= 50 && 50 < end) throw new IllegalStateException("boom at 50");
            }));
            assertEquals("boom at 50", e.getMessage());
            // the pool still works afterwards
            int[] sum = new int[1];
            pool.parallelFor(10, 1, (s, end) -> {
                synchronized (sum) {
                    sum[0] += end - s;
                }
            });
            assertEquals(10, sum[0]);
        }
    }

    /** A loop started inside a worker runs serially instead of waiting on the busy pool (no deadlock). */
    @Test
    void nestedLoopsComplete() {
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicIntegerArray seen = new AtomicIntegerArray(64 * 64);
            pool.parallelFor(64, 1, (s, e) -> {
                for (int i = s; i < e; i++) {
                    int row = i;
                    pool.parallelFor(64, 1, (s2, e2) -> {
                        for (int j = s2; j < e2; j++) seen.incrementAndGet(row * 64 + j);
                    });
                }
            });
            for (int i = 0; i < 64 * 64; i++) assertEquals(1, seen.get(i));
        }
    }

    /** Several callers share the pool at once; each gets its own complete result. */
    @Test
    void concurrentCallersEachComplete() throws Exception {
        try (WorkerPool pool = new WorkerPool(3)) {
            int callers = 4, n = 50_000;
            long[][] sums = new long[callers][1];
            Thread[] ts = new Thread[callers];
            for (int t = 0; t < callers; t++) {
                int id = t;
                ts[t] = new Thread(() -> {
                    for (int rep = 0; rep < 20; rep++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        pool.parallelFor(n, 100, (s, e) -> {
                            for (int i = s; i < e; i++) seen.incrementAndGet(i);
                        });
                        long sum = 0;
                        for (int i = 0; i < n; i++) sum += seen.get(i);
                        sums[id][0] += sum;
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) t.join();
            for (long[] s : sums) assertArrayEquals(new long[] {20L * n}, s);
        }
    }

    @Test
    void closedPoolRunsOnTheCaller() {
        WorkerPool pool = new WorkerPool(3);
        pool.close();
        Thread caller = Thread.currentThread();
        pool.parallelFor(1000, 1, (s, e) -> assertEquals(caller, Thread.currentThread()));
    }

    /** Pools (and the GEMM's parts) share one set of workers: two pools of 3 add no threads beyond 2 workers. */
    @Test
    void poolsShareTheirWorkers() {
        try (WorkerPool a = new WorkerPool(3); WorkerPool b = new WorkerPool(3); WorkerPool c = new WorkerPool(2)) {
            java.util.Set<Thread> used = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (WorkerPool pool : new WorkerPool[] {a, b, c}) {
                for (int round = 0; round < 50; round++) {
                    pool.parallelFor(64, 1, (s, e) -> {
                        used.add(Thread.currentThread());
                        busy(20_000);
                    });
                }
            }
            WorkerPool.runParts(3, p -> used.add(Thread.currentThread()));
            long workers = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("netslim-cpu-")).count();
            assertEquals(true, workers >= 2, "a pool of 3 runs on 2 workers and the caller");
            long foreign = used.stream().filter(t -> t != Thread.currentThread())
                    .filter(t -> !t.getName().startsWith("netslim-cpu-")).count();
            assertEquals(0, foreign, "only the caller and the shared workers run loops: " + used);
            assertEquals(true, used.stream().filter(t -> t.getName().startsWith("netslim-cpu-"))
                    .allMatch(t -> Integer.parseInt(t.getName().substring("netslim-cpu-".length())) < 2),
                    "pools of at most 3 threads use only the first 2 shared workers: " + used);
        }
    }

    /**
     * A backend's pass (the executor's bracket around a forward or backward) keeps the shared workers polling between
     * loops while it is the only one open; brackets nest, close on failure, and when the last one ends the workers
     * park again (a pass count that never returned to zero would leave them polling after every loop).
     */
    @Test
    void passesNestAndEndWithTheWorkersParked() throws Exception {
        try (CpuBackend cpu = CpuBackend.create(2, new VectorGemm(1)); WorkerPool pool = new WorkerPool(2)) {
            AtomicIntegerArray seen = new AtomicIntegerArray(64);
            try (netslim.backend.Backend.Pass outer = cpu.pass(); netslim.backend.Backend.Pass inner = cpu.pass()) {
                assertEquals(WorkerPool.PASS_SPIN ? 2 : 0, WorkerPool.passes());
                for (int round = 0; round < 20; round++) {
                    pool.parallelFor(64, 1, (s, e) -> {
                        for (int i = s; i < e; i++) seen.incrementAndGet(i);
                    });
                }
            }
            assertEquals(0, WorkerPool.passes());
            assertThrows(IllegalStateException.class, () -> {
                try (netslim.backend.Backend.Pass p = cpu.pass()) {
                    throw new IllegalStateException("a failing op");
                }
            });
            assertEquals(0, WorkerPool.passes());
            for (int i = 0; i < 64; i++) assertEquals(20, seen.get(i), "index " + i);
            long deadline = System.nanoTime() + 5_000_000_000L;
            java.util.List<Thread> polling;
            do {
                Thread.sleep(10);
                polling = Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().startsWith("netslim-cpu-"))
                        .filter(t -> t.getState() == Thread.State.RUNNABLE).toList();
            } while (!polling.isEmpty() && System.nanoTime() < deadline);
            assertEquals(java.util.List.of(), polling, "workers still polling after the passes ended");
        }
    }

    /** Every part runs once, on any thread; from inside a worker, serially on that worker. */
    @Test
    void runPartsVisitsEachPartOnce() {
        AtomicIntegerArray seen = new AtomicIntegerArray(5);
        WorkerPool.runParts(5, seen::incrementAndGet);
        for (int p = 0; p < 5; p++) assertEquals(1, seen.get(p), "part " + p);
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicIntegerArray nested = new AtomicIntegerArray(4);
            pool.parallelFor(2, 1, (s, e) -> {
                Thread outer = Thread.currentThread();
                WorkerPool.runParts(2, p -> {
                    if (outer.getName().startsWith("netslim-cpu-")) assertEquals(outer, Thread.currentThread());
                    nested.incrementAndGet(2 * s + p);
                });
            });
            for (int i = 0; i < 4; i++) assertEquals(1, nested.get(i), "nested part " + i);
        }
    }

    /**
     * Parts of runOnWorkers run at the same time, each on a worker (never the caller), and every loop a part starts
     * runs on that part's thread alone: each part waits at a latch until the other has started, which a single
     * thread running both in turn would never pass.
     */
    @Test
    void runOnWorkersRunsEachPartOnAWorkerOfItsOwn() throws Exception {
        try (WorkerPool pool = new WorkerPool(2)) {
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(2);
            Thread[] ran = new Thread[2];
            AtomicIntegerArray foreign = new AtomicIntegerArray(2), seen = new AtomicIntegerArray(2 * 1000);
            WorkerPool.runOnWorkers(2, p -> {
                ran[p] = Thread.currentThread();
                started.countDown();
                try {
                    if (!started.await(20, java.util.concurrent.TimeUnit.SECONDS)) {
                        throw new IllegalStateException("part " + p + " alone: the other part never started");
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                pool.parallelFor(1000, 1, (s, e) -> {
                    if (Thread.currentThread() != ran[p]) foreign.incrementAndGet(p);
                    for (int i = s; i < e; i++) seen.incrementAndGet(p * 1000 + i);
                });
            });
            assertNotEquals(ran[0], ran[1]);
            for (int p = 0; p < 2; p++) {
                assertNotEquals(Thread.currentThread(), ran[p], "part " + p + " ran on the caller");
                assertEquals(true, ran[p].getName().startsWith("netslim-cpu-"), ran[p].getName());
                assertEquals(0, foreign.get(p), "part " + p + "'s loop went to other threads");
            }
            for (int i = 0; i < 2000; i++) assertEquals(1, seen.get(i), "index " + i);
            assertEquals(2, pool.threadsHere(), "on the caller");
            int[] inLane = new int[2];
            WorkerPool.runOnWorkers(2, p -> inLane[p] = pool.threadsHere());
            assertArrayEquals(new int[] {1, 1}, inLane, "inside a lane loops run on its thread alone");
        }
    }

    /** One part, or a call from inside a worker, runs on the calling thread; a part's failure reaches the caller. */
    @Test
    void runOnWorkersRunsSeriallyWhereItMustAndRethrows() {
        Thread caller = Thread.currentThread();
        Thread[] one = new Thread[1];
        WorkerPool.runOnWorkers(1, p -> one[0] = Thread.currentThread());
        assertEquals(caller, one[0]);
        AtomicIntegerArray nested = new AtomicIntegerArray(3);
        WorkerPool.runOnWorkers(2, outer -> {
            Thread worker = Thread.currentThread();
            WorkerPool.runOnWorkers(3, p -> {
                assertEquals(worker, Thread.currentThread());
                nested.incrementAndGet(p);
            });
        });
        for (int p = 0; p < 3; p++) assertEquals(2, nested.get(p), "nested part " + p);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> WorkerPool.runOnWorkers(2, p -> {
            if (p == 1) throw new IllegalStateException("lane 1 failed");
        }));
        assertEquals("lane 1 failed", e.getMessage());
    }

    private static void busy(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
