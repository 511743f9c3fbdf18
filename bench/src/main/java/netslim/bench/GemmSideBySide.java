package netslim.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import netslim.backend.cpu.Gemm;
import netslim.backend.cpu.OpenBlasGemm;
import netslim.tensor.Rng;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * GEMM implementations timed call by call in turn, in one JVM, for machines shared with other work (PEERS.md:
 * "compare only side by side in the same run"): bursts of foreign load then hit every implementation alike, and
 * the best call shows what each reaches when it has the cores. Prints median and best GFLOP/s per shape.
 * With {@code --copies} it instead times what handing float[] operands to OpenBLAS costs, per way of passing them.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar
 * netslim.bench.GemmSideBySide [seconds-per-shape] [threads] [--copies]}
 */
public final class GemmSideBySide {
    static final int[][] SHAPES = { // M, K, N
        {256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {64, 147, 12544}, {192, 576, 3136}, {128, 864, 784},
        {384, 832, 49}, {256, 528, 196}, {1000, 1024, 1},
    };

    private GemmSideBySide() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        if (Arrays.asList(args).contains("--copies")) {
            copies();
            return;
        }
        Gemm[] impls = {Gemm.select("openblas", threads), Gemm.select("java", threads)};
        System.out.printf("threads=%d, %.0f s per shape; GFLOP/s median / best of single calls%n", threads, seconds);
        for (int[] s : SHAPES) {
            int m = s[0], k = s[1], n = s[2];
            Rng rng = new Rng(42);
            float[] a = GemmBench.uniform(rng, m * k), b = GemmBench.uniform(rng, k * n), c = new float[m * n];
            List<List<Double>> rates = new ArrayList<>();
            for (Gemm g : impls) {
                rates.add(new ArrayList<>());
                g.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n); // warm-up call
            }
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (int round = 0; System.nanoTime() < end || round < 5; round++) {
                for (int i = 0; i < impls.length; i++) {
                    long t0 = System.nanoTime();
                    impls[i].sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
                    rates.get(i).add(2.0 * m * n * k / (System.nanoTime() - t0));
                }
            }
            StringBuilder line = new StringBuilder(String.format("%5dx%dx%d", m, k, n));
            for (int i = 0; i < impls.length; i++) {
                List<Double> r = rates.get(i);
                r.sort(null);
                line.append(String.format("  %s %.1f / %.1f", impls[i].name(), r.get(r.size() / 2),
                        r.get(r.size() - 1)));
            }
            System.out.println(line + "  (" + rates.get(0).size() + " calls each)");
        }
    }

    /**
     * The copies alone, with caches flushed before each timing (operands come from memory, as after im2col of a
     * big layer): the float[] and heap-FloatBuffer overloads of cblas_sgemm copy whole arrays whatever m, n, k are,
     * so a 1x1x1 product on the full arrays measures exactly their overhead; the staging of {@link OpenBlasGemm}
     * is reproduced as its bulk copies of A and B into, and C out of, reused direct buffers.
     */
    private static void copies() {
        new OpenBlasGemm(1); // loads the library
        openblas_nolapack.blas_set_num_threads(1);
        int rm = openblas_nolapack.CblasRowMajor, nt = openblas_nolapack.CblasNoTrans;
        float[] flush = new float[16 << 20]; // 64 MiB, beyond the 16 MiB L3
        System.out.println("microseconds, best of 20: float[] overload | FloatBuffer.wrap | staging as OpenBlasGemm"
                + " does");
        for (int[] s : SHAPES) {
            int m = s[0], k = s[1], n = s[2];
            Rng rng = new Rng(42);
            float[] a = GemmBench.uniform(rng, m * k), b = GemmBench.uniform(rng, k * n), c = new float[m * n];
            FloatBuffer da = direct(a), db = direct(b), dc = direct(c);
            long[] best = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
            for (int r = 0; r < 20; r++) {
                for (int way = 0; way < 3; way++) {
                    Arrays.fill(flush, r + way);
                    long t0 = System.nanoTime();
                    switch (way) {
                        case 0 -> openblas_nolapack.cblas_sgemm(rm, nt, nt, 1, 1, 1, 1f, a, 1, b, 1, 0f, c, 1);
                        case 1 -> openblas_nolapack.cblas_sgemm(rm, nt, nt, 1, 1, 1, 1f, FloatBuffer.wrap(a), 1,
                                FloatBuffer.wrap(b), 1, 0f, FloatBuffer.wrap(c), 1);
                        default -> {
                            da.put(0, a, 0, a.length);
                            db.put(0, b, 0, b.length);
                            dc.get(0, c, 0, c.length);
                        }
                    }
                    best[way] = Math.min(best[way], System.nanoTime() - t0);
                }
            }
            System.out.printf("%5dx%dx%d (A+B+C %.1f MB): %6.0f | %6.0f | %6.0f%n", m, k, n,
                    4e-6 * ((long) m * k + (long) k * n + (long) m * n), best[0] / 1e3, best[1] / 1e3, best[2] / 1e3);
        }
    }

    private static FloatBuffer direct(float[] x) {
        FloatBuffer f = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        f.put(0, x);
        return f;
    }
}
