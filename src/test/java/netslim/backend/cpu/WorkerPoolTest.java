package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
