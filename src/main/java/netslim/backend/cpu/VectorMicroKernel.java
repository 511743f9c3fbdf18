package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector-API micro-kernel: a 6 x (2 vectors) tile of C held in 12 accumulator registers (6 x 16 floats with
 * AVX2's 256-bit vectors), the classic Haswell/Zen SGEMM shape: per p it loads 2 B vectors and broadcasts 6 A
 * values for 12 FMAs, so with 16 ymm registers nothing spills. FLOPs per call 2·6·16·kc; bytes read (6 + 16)·4·kc,
 * mostly from L1 (B panel) and L2 (A block). Alone, with its data in L1, it runs at ~70 GFLOP/s per core on the
 * AMD EPYC of sessions 1-6. With AVX-512 (32 zmm registers) the tile is 8 x (2 vectors) = 8 x 32 instead: see
 * {@link #MR}.
 *
 * <p>Two bodies: packed A (the common case, fixed strides) and any A strides (used to read A's rows in place when
 * n is small, see {@link BlockedGemm}); the general one is ~9% slower, which is why the packed one stays separate.
 * Each body only stores its sums (into C when alpha = 1 and beta = 0, else into a per-thread tile that
 * {@link #finish} scales and adds into C): bodies that also held the alpha and beta epilogues (vectors reassigned
 * under a branch, a second set of stores) were sometimes compiled by C2 as the Vector API's boxed fallback — 2 of 6
 * JVMs allocated 22–28 MB per GoogLeNet batch-8 training step with {@code --gemm java} (session 12), as the 8 x 32
 * packed tile had at batch 1 (session 11). The bodies are kept out of their callers ({@link JitDirectives}), and
 * take and return no vectors (a helper taking FloatVector arguments that C2 did not inline forced one vector box
 * per loop iteration).
 */
final class VectorMicroKernel implements MicroKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    /**
     * Rows of the tile: 6 with 16 vector registers (AVX2: 12 accumulators + 2 B + 1 A), 8 with AVX-512's 32
     * registers (16 accumulators), where the 6-row body leaves the FMA ports idle: alone, with its data in L1, on a
     * 2-core Xeon with AVX-512 (session 7) the 6 x 32 tile ran at 73.6 GMAC/s per core and the 8 x 32 tile at 95.2,
     * against 91 for a bare chain of independent FMAs (bench/RESULTS.md). 8 rather than 12 (as fast there): the
     * channel counts of real networks are multiples of 8 far more often than of 12, so fewer padded rows.
     */
    static final int MR = V >= 16 ? 8 : 6;

    /** Whether the Java paths run on this machine's vector 8-row tile (AVX-512, Vector API not switched off). */
    static boolean eightRowTile() {
        return MR == 8 && VectorGemm.VECTOR_BY_DEFAULT;
    }
    static final int NR = 2 * V;
    private static final MicroKernel NARROW6 = new Narrow(6), NARROW8 = new Narrow(8);

    /** 6 or 8: fixed per machine ({@link #MR}) in use; either can be built for tests on any machine. */
    private final int rows;

    /** The tile this machine uses: {@link #MR} x {@link #NR}. */
    VectorMicroKernel() {
        this(MR);
    }

    /** A kernel of 6 or 8 rows (the other height than {@link #MR} only for tests: it may spill registers). */
    VectorMicroKernel(int rows) {
        if (rows != 6 && rows != 8) throw new IllegalArgumentException("rows must be 6 or 8, got " + rows);
        this.rows = rows;
    }

    @Override
    public int mr() {
        return rows;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public MicroKernel narrow() {
        return rows == 8 ? NARROW8 : NARROW6;
    }

    @Override
    public void run(int kc, float[] a, int aOff, int aRowStride, int aPStride, float alpha, float[] pb, int bOff,
                    float beta, float[] c, int cOff, int ldc) {
        boolean packed = aRowStride == 1 && aPStride == rows, direct = alpha == 1f && beta == 0f;
        float[] out = direct ? c : SUMS.get();
        int at = direct ? cOff : 0, ld = direct ? ldc : NR;
        if (rows == 8) {
            if (packed) packed8Store(kc, a, aOff, pb, bOff, NR, out, at, ld);
            else strided8Store(kc, a, aOff, aRowStride, aPStride, pb, bOff, out, at, ld);
        } else if (packed) {
            packed6Store(kc, a, aOff, pb, bOff, out, at, ld);
        } else {
            strided6Store(kc, a, aOff, aRowStride, aPStride, pb, bOff, out, at, ld);
        }
        if (!direct) finish(out, rows, NR, alpha, beta, c, cOff, ldc);
    }

    /** The 6 x 32 tile's sums on packed A (k-major, 6 wide), stored at c (rows ldc apart). */
    static void packed6Store(int kc, float[] a, int aOff, float[] pb, int bOff, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            int ai = aOff + p * 6;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        int r = cOff;
        c00.intoArray(c, r);
        c01.intoArray(c, r + V);
        r += ldc;
        c10.intoArray(c, r);
        c11.intoArray(c, r + V);
        r += ldc;
        c20.intoArray(c, r);
        c21.intoArray(c, r + V);
        r += ldc;
        c30.intoArray(c, r);
        c31.intoArray(c, r + V);
        r += ldc;
        c40.intoArray(c, r);
        c41.intoArray(c, r + V);
        r += ldc;
        c50.intoArray(c, r);
        c51.intoArray(c, r + V);
    }

    /** The 6 x 32 tile's sums on A read in place (row i of step p at a[aOff + p·ps + i·rs]), stored at c. */
    static void strided6Store(int kc, float[] a, int aOff, int rs, int ps, float[] pb, int bOff, float[] c, int cOff,
                              int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            int ai = aOff + p * ps;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + rs]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2 * rs]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3 * rs]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4 * rs]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5 * rs]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        int r = cOff;
        c00.intoArray(c, r);
        c01.intoArray(c, r + V);
        r += ldc;
        c10.intoArray(c, r);
        c11.intoArray(c, r + V);
        r += ldc;
        c20.intoArray(c, r);
        c21.intoArray(c, r + V);
        r += ldc;
        c30.intoArray(c, r);
        c31.intoArray(c, r + V);
        r += ldc;
        c40.intoArray(c, r);
        c41.intoArray(c, r + V);
        r += ldc;
        c50.intoArray(c, r);
        c51.intoArray(c, r + V);
    }

    /**
     * The 6- or 8-row x (1 vector) kernel for a last B panel at most one vector wide (e.g. n = 49 = 3·16 + 1); 8 rows
     * with AVX-512, see {@link #MR}.
     */
    static final class Narrow implements MicroKernel {
        private final int rows;

        Narrow(int rows) {
            this.rows = rows;
        }

        @Override
        public int mr() {
            return rows;
        }

        @Override
        public int nr() {
            return V;
        }

        @Override
        public void run(int kc, float[] a, int aOff, int rs, int ps, float alpha, float[] pb, int bOff, float beta,
                        float[] c, int cOff, int ldc) {
            boolean direct = alpha == 1f && beta == 0f;
            float[] out = direct ? c : SUMS.get();
            int at = direct ? cOff : 0, ld = direct ? ldc : V;
            if (rows == 8) narrow8Store(kc, a, aOff, rs, ps, pb, bOff, out, at, ld);
            else narrow6Store(kc, a, aOff, rs, ps, pb, bOff, out, at, ld);
            if (!direct) finish(out, rows, V, alpha, beta, c, cOff, ldc);
        }
    }

    /** The 6 x 16 tile's sums on A read in place, stored at c (rows ldc apart). */
    static void narrow6Store(int kc, float[] a, int aOff, int rs, int ps, float[] pb, int bOff, float[] c, int cOff,
                             int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * V;
            int ai = aOff + p * ps;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            c00 = a0.fma(b0, c00);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + rs]);
            c10 = a1.fma(b0, c10);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2 * rs]);
            c20 = a2.fma(b0, c20);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3 * rs]);
            c30 = a3.fma(b0, c30);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4 * rs]);
            c40 = a4.fma(b0, c40);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5 * rs]);
            c50 = a5.fma(b0, c50);
        }
        int r = cOff;
        c00.intoArray(c, r);
        r += ldc;
        c10.intoArray(c, r);
        r += ldc;
        c20.intoArray(c, r);
        r += ldc;
        c30.intoArray(c, r);
        r += ldc;
        c40.intoArray(c, r);
        r += ldc;
        c50.intoArray(c, r);
    }

    /**
     * The 8-row tile on packed A (k-major, 8 wide): c = beta·c + Σ_p a[p][0..7] ⊗ b[p][0..31], b's rows {@code ldb}
     * apart (NR for the GEMM's packed panel; {@link DirectPointwise} passes a feature map's rows in place), beta 0
     * overwriting c. One kernel, compiled on its own ({@link JitDirectives}), that only stores its sums; with beta ≠ 0
     * they go through a per-thread tile into c ({@link #finish}). With the update (c = fma(c, beta, sums)) as a second
     * epilogue in the kernel, C2 sometimes compiled its vector operations as the Vector API's boxed fallback (1-3 JVMs
     * of 12: up to 2.7 MB per GoogLeNet batch-1 pass, session 11), with a plain add there as well.
     */
    static void runPacked8(int kc, float[] a, int aOff, float[] pb, int bOff, int ldb, float beta, float[] c,
                           int cOff, int ldc) {
        if (beta == 0f) {
            packed8Store(kc, a, aOff, pb, bOff, ldb, c, cOff, ldc);
            return;
        }
        float[] sums = SUMS.get();
        packed8Store(kc, a, aOff, pb, bOff, ldb, sums, 0, NR);
        finish(sums, 8, NR, 1f, beta, c, cOff, ldc);
    }

    /** Per thread: a tile's sums on their way into c ({@link #finish}). */
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[8 * NR]);

    /**
     * c (rows x width, rows ldc apart) = alpha·sums, or with beta ≠ 0 fma(c, beta, alpha·sums): the bits of the
     * kernels' former fused epilogues (acc·alpha, then stored or fma'd into c; alpha = 1 multiplies exactly). sums'
     * rows are width apart. The two loops assign no vector in a branch (C2 boxes vectors that branches reassign).
     */
    private static void finish(float[] sums, int rows, int width, float alpha, float beta, float[] c, int cOff,
                               int ldc) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        if (beta == 0f) { // overwrite: C is not read, so NaN already there does not survive
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < width; j += V) {
                    FloatVector.fromArray(S, sums, i * width + j).mul(av).intoArray(c, cOff + i * ldc + j);
                }
            }
            return;
        }
        FloatVector bv = FloatVector.broadcast(S, beta);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < width; j += V) {
                int at = cOff + i * ldc + j;
                FloatVector.fromArray(S, c, at).fma(bv, FloatVector.fromArray(S, sums, i * width + j).mul(av))
                        .intoArray(c, at);
            }
        }
    }

    /** {@link #runPacked8} with beta 0: c = the sums (C is not read, so NaN already there does not survive). */
    static void packed8Store(int kc, float[] a, int aOff, float[] pb, int bOff, int ldb, float[] c, int cOff,
                             int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * ldb;
            int ai = aOff + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, a[ai + 0]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[ai + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[ai + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
        }
        int r = cOff;
        c00.intoArray(c, r);
        c01.intoArray(c, r + V);
        r += ldc;
        c10.intoArray(c, r);
        c11.intoArray(c, r + V);
        r += ldc;
        c20.intoArray(c, r);
        c21.intoArray(c, r + V);
        r += ldc;
        c30.intoArray(c, r);
        c31.intoArray(c, r + V);
        r += ldc;
        c40.intoArray(c, r);
        c41.intoArray(c, r + V);
        r += ldc;
        c50.intoArray(c, r);
        c51.intoArray(c, r + V);
        r += ldc;
        c60.intoArray(c, r);
        c61.intoArray(c, r + V);
        r += ldc;
        c70.intoArray(c, r);
        c71.intoArray(c, r + V);
    }

    /** The 8 x 32 tile's sums on A read in place (row i of step p at a[aOff + p·ps + i·rs]), stored at c. */
    static void strided8Store(int kc, float[] a, int aOff, int rs, int ps, float[] pb, int bOff, float[] c, int cOff,
                              int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            int ai = aOff + p * ps;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + rs]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2 * rs]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3 * rs]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4 * rs]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5 * rs]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[ai + 6 * rs]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[ai + 7 * rs]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
        }
        int r = cOff;
        c00.intoArray(c, r);
        c01.intoArray(c, r + V);
        r += ldc;
        c10.intoArray(c, r);
        c11.intoArray(c, r + V);
        r += ldc;
        c20.intoArray(c, r);
        c21.intoArray(c, r + V);
        r += ldc;
        c30.intoArray(c, r);
        c31.intoArray(c, r + V);
        r += ldc;
        c40.intoArray(c, r);
        c41.intoArray(c, r + V);
        r += ldc;
        c50.intoArray(c, r);
        c51.intoArray(c, r + V);
        r += ldc;
        c60.intoArray(c, r);
        c61.intoArray(c, r + V);
        r += ldc;
        c70.intoArray(c, r);
        c71.intoArray(c, r + V);
    }

    /** The 8 x 16 tile's sums on A read in place, stored at c (rows ldc apart). */
    static void narrow8Store(int kc, float[] a, int aOff, int rs, int ps, float[] pb, int bOff, float[] c, int cOff,
                             int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * V;
            int ai = aOff + p * ps;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector a0 = FloatVector.broadcast(S, a[ai]);
            c00 = a0.fma(b0, c00);
            FloatVector a1 = FloatVector.broadcast(S, a[ai + rs]);
            c10 = a1.fma(b0, c10);
            FloatVector a2 = FloatVector.broadcast(S, a[ai + 2 * rs]);
            c20 = a2.fma(b0, c20);
            FloatVector a3 = FloatVector.broadcast(S, a[ai + 3 * rs]);
            c30 = a3.fma(b0, c30);
            FloatVector a4 = FloatVector.broadcast(S, a[ai + 4 * rs]);
            c40 = a4.fma(b0, c40);
            FloatVector a5 = FloatVector.broadcast(S, a[ai + 5 * rs]);
            c50 = a5.fma(b0, c50);
            FloatVector a6 = FloatVector.broadcast(S, a[ai + 6 * rs]);
            c60 = a6.fma(b0, c60);
            FloatVector a7 = FloatVector.broadcast(S, a[ai + 7 * rs]);
            c70 = a7.fma(b0, c70);
        }
        int r = cOff;
        c00.intoArray(c, r);
        r += ldc;
        c10.intoArray(c, r);
        r += ldc;
        c20.intoArray(c, r);
        r += ldc;
        c30.intoArray(c, r);
        r += ldc;
        c40.intoArray(c, r);
        r += ldc;
        c50.intoArray(c, r);
        r += ldc;
        c60.intoArray(c, r);
        r += ldc;
        c70.intoArray(c, r);
    }
}
